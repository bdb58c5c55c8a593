/**
 * What the server may send unacknowledged on one channel. ssh2 keeps 1–2 MiB open, so one
 * channel carries at most ~2 MiB per round trip: ~10 MiB/s at 100 ms. This is room for the read
 * loop's most (64 × 255 KiB) twice over, so an SFTP channel's window never binds: the READs in
 * flight, sized to the link, bound what the server sends.
 */
export const RECEIVE_WINDOW = 32 * 1024 * 1024;

/** What ssh2 opens a channel with, and tops it up to. */
const SSH2_WINDOW = 2 * 1024 * 1024;

/** The rate a stream channel (a tar) is given room for: about what one carries on the bench's LAN. */
const STREAM_BYTES_PER_MS = (320 * 1024 * 1024) / 1000;

/**
 * The window a stream channel (a tar) needs over a link whose round trip took `roundTripMs`, or
 * undefined where ssh2's own is enough, with room to spare for a round trip measured long. Over
 * a 100 ms round trip, 20,000 small files by tar took 14.1 s in ssh2's window, 8.6 s in 32 MiB;
 * on the LAN, 32 MiB made them slower (2.19 → 2.36 s: the server ran further ahead of a client
 * that was the bottleneck already).
 */
export function streamWindowFor(roundTripMs: number): number | undefined {
  const wanted = Math.ceil(STREAM_BYTES_PER_MS * roundTripMs);
  return wanted > 2 * SSH2_WINDOW ? Math.min(RECEIVE_WINDOW, wanted) : undefined;
}

/** The fields of an ssh2 channel (lib/Channel.js, lib/protocol/SFTP.js) its receive window lives in. */
interface Ssh2ChannelInternals {
  incoming?: { window?: number };
  outgoing?: { id?: number; state?: string };
  /** An SFTP channel's; an exec channel reaches it through its client. */
  _protocol?: Ssh2Protocol;
  _client?: { _protocol?: Ssh2Protocol };
  push?: (data: Buffer | null) => unknown;
}

interface Ssh2Protocol {
  channelWindowAdjust?: (id: number, amount: number) => void;
}

/**
 * Keeps a channel's receive window at `size`: granted at once, and topped up whenever the data
 * received has taken it down to half, which keeps it above ssh2's own 1 MiB threshold (so ssh2
 * never adjusts it). Not while its reader is behind (push said so): ssh2 then waits for the
 * reader, and so does this. A build of ssh2 without these fields keeps its own window.
 */
export function widenReceiveWindow(channel: object, size = RECEIVE_WINDOW): void {
  const internals = channel as Ssh2ChannelInternals;
  const { incoming, outgoing, push } = internals;
  const protocol = internals._protocol ?? internals._client?._protocol;
  if (typeof incoming?.window !== 'number' || typeof outgoing?.id !== 'number' || typeof protocol?.channelWindowAdjust !== 'function' || typeof push !== 'function') return;
  const topUp = (): void => {
    const window = incoming.window ?? size;
    if (outgoing.state !== 'open' || window > size / 2) return;
    incoming.window = size;
    protocol.channelWindowAdjust?.(outgoing.id as number, size - window);
  };
  internals.push = (data: Buffer | null): unknown => {
    const pushed = push.call(channel, data);
    if (pushed !== false) topUp();
    return pushed;
  };
  topUp();
}
