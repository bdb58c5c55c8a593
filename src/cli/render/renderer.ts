import type { EventSink } from '../../pipeline/events.js';

/** An output of a run: it takes the engine's events, and hears when the run ended by throwing. */
export interface Renderer extends EventSink {
  /** The run ended with `error` (thrown, not a summary): a live line is cleared, a log or JSON stream records it. */
  failed(error: unknown): void;
}

/** Presentation's clock: Date.now in use, a counter in tests. */
export type Clock = () => number;

/** Every renderer gets each event and each failure, in the order given. */
export function fanOut(renderers: readonly Renderer[]): Renderer {
  return {
    emit: (event) => {
      for (const r of renderers) r.emit(event);
    },
    failed: (error) => {
      for (const r of renderers) r.failed(error);
    },
  };
}
