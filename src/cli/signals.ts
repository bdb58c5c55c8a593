import { STOP_SIGNALS } from '../core/stopSignals.js';

/** Calls `handler` on the first of the stop signals; returns what stops listening. */
export function onStopSignal(handler: (signal: NodeJS.Signals) => void): () => void {
  for (const signal of STOP_SIGNALS) process.once(signal, handler);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, handler);
  };
}
