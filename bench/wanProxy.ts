import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** How to reach the target and what WAN to put in front of it. */
export interface WanLinkOptions {
  /** Where the proxy listens: host (default '127.0.0.1'), port 0 = kernel picks. */
  listenHost?: string;
  targetHost: string;
  targetPort: number;
  /** Added to every chunk in each direction, ms (e.g. 10 or 50). */
  oneWayDelayMs: number;
  /** Optional per-connection, per-direction cap in bits per second (e.g. 100e6); undefined = none. */
  rateBitsPerSecond?: number;
}

/** A running delay proxy: a user-space stand-in for netem, which this kernel lacks. */
export interface WanProxy {
  readonly port: number;
  /** Payload bytes forwarded target→client (down) and client→target (up) since start, all connections. */
  counters(): { down: number; up: number };
  /** Destroys every connection and closes the listener. Idempotent. */
  close(): Promise<void>;
}

/**
 * Above this many queued bytes a direction stops reading its source. A link holds rate × delay
 * in flight: ~1 GB/s × 50 ms ≈ 50 MB, so 64 MiB never limits throughput (the test suite's 1 MiB
 * would cap a 50 ms link at ~20 MiB/s).
 */
const HIGH_WATER = 64 * 1024 * 1024;

/** Chunks are cut to at most this, so a cap paces smoothly: 64 KiB at 100 Mbit/s is 5.2 ms. */
const PIECE = 64 * 1024;

/** A chunk, or the source's FIN (null), and when it may leave (performance.now() ms). */
interface Departure {
  readonly due: number;
  readonly chunk: Buffer | null;
}

/**
 * One direction of one connection: a FIFO whose chunk i leaves at
 * max(arrival_i + delay, departure_{i-1} + serialization_{i-1}). Due times never decrease, so one
 * timer armed for the head is enough.
 */
class Lane {
  private readonly queue: Departure[] = [];
  private queued = 0;
  /** When the modelled wire is free of the last chunk queued: its departure plus serialization. */
  private free = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private paused = false;
  private stopped = false;

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly delayMs: number,
    /** 8000 / rate; 0 without a cap. */
    private readonly msPerByte: number,
    private readonly count: (bytes: number) => void,
  ) {
    source.on('data', (chunk: Buffer) => {
      const arrival = performance.now();
      for (let at = 0; at < chunk.length; at += PIECE) this.push(arrival, chunk.subarray(at, at + PIECE));
      if (this.queued > HIGH_WATER && !this.paused) {
        this.paused = true;
        source.pause();
      }
      this.flush();
    });
    // With allowHalfOpen the FIN is just the last item of the queue: delayed like data, never early.
    source.on('end', () => {
      this.push(performance.now(), null);
      this.flush();
    });
  }

  private push(arrival: number, chunk: Buffer | null): void {
    const due = Math.max(arrival + this.delayMs, this.free);
    const bytes = chunk?.length ?? 0;
    this.free = due + bytes * this.msPerByte;
    this.queue.push({ due, chunk });
    this.queued += bytes;
  }

  /**
   * Writes every chunk that is due, in order. Invariants: nothing is written while waiting for
   * 'drain'; the FIN goes only after the last chunk; at most one timer is pending.
   */
  private flush(): void {
    if (this.stopped || this.waitingForDrain) return;
    const now = performance.now();
    let head = this.queue[0];
    while (head !== undefined && head.due <= now) {
      this.queue.shift();
      if (head.chunk === null) {
        this.sink.end();
        return;
      }
      this.queued -= head.chunk.length;
      this.count(head.chunk.length);
      if (!this.sink.write(head.chunk)) {
        this.waitingForDrain = true;
        this.sink.once('drain', () => {
          this.waitingForDrain = false;
          this.flush();
        });
        break;
      }
      head = this.queue[0];
    }
    if (this.paused && this.queued <= HIGH_WATER) {
      this.paused = false;
      this.source.resume();
    }
    if (this.waitingForDrain || head === undefined || this.timer !== undefined) return;
    // libuv's cached loop time can fire a timer ~1 ms before performance.now() says it is due;
    // flush re-checks the clock and re-arms rather than send early.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(1, Math.ceil(head.due - now)),
    );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** One accepted client and its connection to the target. */
class Link {
  private closed = false;
  private readonly lanes: Lane[];

  constructor(
    private readonly client: Socket,
    private readonly target: Socket,
    options: WanLinkOptions,
    totals: { down: number; up: number },
    private readonly onClosed: (link: Link) => void,
  ) {
    const msPerByte = options.rateBitsPerSecond === undefined ? 0 : 8000 / options.rateBitsPerSecond;
    const delay = options.oneWayDelayMs;
    this.lanes = [
      new Lane(client, target, delay, msPerByte, (n) => (totals.up += n)),
      new Lane(target, client, delay, msPerByte, (n) => (totals.down += n)),
    ];
    for (const socket of [client, target]) {
      // The delay is the proxy's job: Nagle on its side would add up to 40 ms (delayed ACK) more.
      socket.setNoDelay(true);
      // ECONNRESET, EPIPE, ECONNREFUSED on either side: the whole link is broken.
      socket.on('error', () => this.destroy());
      // A clean close needs both of a socket's directions done; the link is over when both are.
      socket.on('close', () => {
        if (client.destroyed && target.destroyed) this.destroy();
      });
    }
  }

  /**
   * Ends both sides as a broken path would, with a reset: a plain destroy() sends a FIN, which a
   * half-open peer reads as a clean end of stream (a truncated transfer would look complete).
   * Only a side whose FIN the proxy already passed on is simply closed: its stream is whole, and
   * Node 20 never finishes a reset that lands on its own shutdown still under way (the bench then
   * spun a core in its exit until killed: 6 of 7 runs of `--slow-reps 9 wan10:small100`).
   */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const lane of this.lanes) lane.stop();
    for (const socket of [this.client, this.target]) {
      if (socket.destroyed) continue;
      if (socket.writableEnded) socket.destroy();
      else socket.resetAndDestroy();
    }
    this.onClosed(this);
  }
}

/** Starts a delay (and optionally rate-capped) TCP proxy in front of targetHost:targetPort. */
export async function startWanProxy(options: WanLinkOptions): Promise<WanProxy> {
  const { oneWayDelayMs: delay, rateBitsPerSecond: rate } = options;
  if (!(delay >= 0)) throw new RangeError(`oneWayDelayMs must be >= 0, got ${delay}`);
  if (rate !== undefined && !(rate > 0)) throw new RangeError(`rateBitsPerSecond must be > 0, got ${rate}`);
  const totals = { down: 0, up: 0 };
  const links = new Set<Link>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const target = connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    links.add(new Link(client, target, options, totals, (link) => links.delete(link)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.listenHost ?? '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // An accept failure (EMFILE) after listen must not crash the bench; the client sees a reset.
  server.on('error', () => undefined);
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    counters: () => ({ ...totals }),
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const link of [...links]) link.destroy();
      });
      return closing;
    },
  };
}
