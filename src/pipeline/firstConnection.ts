import { parseTarget, type RemoteTarget } from '../core/target.js';
import { resolveConnectSpec } from '../ssh/config.js';
import { openSession, type Session } from '../ssh/connect.js';
import type { ConnectSpec } from '../ssh/spec.js';
import type { Transport } from '../ssh/transport.js';
import { ByteMeter } from '../transfer/meter.js';
import type { PullRequest } from './runPull.js';

/** --timeout's default: long enough for a busy server, short enough that a dead route is noticed. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** The run's first connection (it lists; workers open their own), and what it was opened with. */
export interface FirstConnection {
  /** When the run began: before connecting. */
  readonly started: number;
  readonly target: RemoteTarget;
  readonly spec: ConnectSpec;
  readonly session: Session;
  /** --timeout, in ms: how long any connection may go without an answer. */
  readonly stallTimeoutMs: number;
  /** Shared with the workers: what every connection of the run receives, and the file bytes among it. */
  readonly meter: ByteMeter;
}

/** What of a pull the connection is made from. */
export type ConnectionRequest = Pick<PullRequest, 'source' | 'ssh' | 'env' | 'timeoutSeconds' | 'signal'>;

/** The request's route, resolved before this module loaded, and a direct route's TCP connection, opening (headStart.ts). */
export interface RouteAhead {
  readonly spec: ConnectSpec;
  readonly openedAhead?: Promise<Transport>;
}

/**
 * Resolves the target as ssh would and logs in. This module loads little (ssh2 and the config
 * resolver): the command starts it before it loads the rest of the pipeline (SQLite, piscina,
 * the walk), so the handshake's round trips and that loading overlap. Prompts wait for
 * `promptsAfter` (headStart.ts: a login started before the command line is parsed asks nobody
 * until the command takes it), and `ahead` is the request's route if it was resolved earlier still.
 */
export async function openFirstConnection(request: ConnectionRequest, promptsAfter?: Promise<void>, ahead?: Promise<RouteAhead>): Promise<FirstConnection> {
  const started = Date.now();
  const target = parseTarget(request.source);
  const env = request.env ?? process.env;
  const { spec, openedAhead } = ahead ? await ahead : { spec: resolveConnectSpec(target, { ...request.ssh, env }), openedAhead: undefined };
  const stallTimeoutMs = (request.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const meter = new ByteMeter();
  const session = await openSession(spec, {
    env,
    answerTimeoutMs: stallTimeoutMs,
    onReceived: (bytes) => meter.addWire(bytes),
    ...(request.signal ? { signal: request.signal } : {}),
    ...(promptsAfter ? { promptsAfter } : {}),
    ...(openedAhead ? { openedAhead } : {}),
  });
  return { started, target, spec, session, stallTimeoutMs, meter };
}
