/**
 * What the TCP proxy does to the bytes it forwards. "Counter" below is per connection: the
 * server→client bytes that connection has forwarded since the later of (its accept, the last
 * setMode). So setMode re-arms a limit on every open connection, and every new connection gets
 * the full allowance afresh: `drop-after` models a link that breaks every `bytes`, not once.
 */
export type ProxyMode =
  /** Forward everything as it comes. */
  | { kind: 'pass' }
  /**
   * Each chunk, in both directions, is forwarded `ms` after it reached the proxy; FIFO per
   * direction, so order is preserved and a round trip takes at least 2 × ms.
   */
  | { kind: 'delay'; ms: number }
  /**
   * Forwards exactly `bytes` server→client bytes on each connection (the counter), then resets
   * both sides (RST: the client sees ECONNRESET or an abrupt EOF). A counter already at `bytes`
   * when the mode is set (always, for `bytes: 0`) means at once; new connections are reset as
   * soon as they are accepted when `bytes` is 0, otherwise they pass until they reach it.
   */
  | { kind: 'drop-after'; bytes: number }
  /**
   * Forwards exactly `bytes` server→client bytes on each connection (the counter), then holds
   * everything in both directions: sockets stay open and nothing more crosses, like a dead route
   * that never resets. The held bytes are kept, not discarded: after a setMode that lets them
   * through (e.g. back to `pass`) the connection resumes intact.
   */
  | { kind: 'stall-after'; bytes: number };

/** The remaining server→client allowance of a connection, or Infinity when the mode has none. */
export function allowance(mode: ProxyMode, counter: number): number {
  return mode.kind === 'drop-after' || mode.kind === 'stall-after' ? Math.max(0, mode.bytes - counter) : Infinity;
}
