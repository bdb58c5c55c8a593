import type { Socket } from 'node:net';
import { allowance, type ProxyMode } from './proxyMode.js';

/** What a link needs from its proxy. */
export interface LinkHost {
  mode(): ProxyMode;
  forwarded(direction: 'up' | 'down', bytes: number): void;
  closed(link: ProxyLink): void;
}

/** Above this many queued bytes a direction stops reading its source (TCP backpressure). */
const HIGH_WATER = 1 << 20;

/** One direction of a link: a FIFO of chunks waiting to be forwarded. */
class Pump {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private queued = 0;
  /** When the source's FIN arrived; it is forwarded like one more chunk (delayed, held). */
  private endedAt: number | undefined;
  private waitingForDrain = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: ProxyLink,
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly direction: 'up' | 'down',
  ) {
    source.on('data', (chunk: Buffer) => {
      this.queue.push({ at: performance.now(), chunk });
      this.queued += chunk.length;
      if (this.queued > HIGH_WATER) source.pause();
      this.pump();
    });
    source.on('end', () => {
      this.endedAt = performance.now();
      this.pump();
    });
  }

  /**
   * Forwards what the mode allows now. Invariants: chunks leave in arrival order; nothing is
   * written while the sink is full; the end is forwarded only after the last chunk.
   */
  pump(): void {
    if (this.link.isClosed || this.waitingForDrain) return;
    while (this.queue.length > 0) {
      const mode = this.link.host.mode();
      if (this.link.isStalled()) return;
      const head = this.queue[0]!;
      if (this.delayed(head.at)) return;
      let chunk = head.chunk;
      if (this.direction === 'down') {
        const allowed = allowance(mode, this.link.counter);
        // A zero allowance is handled by isStalled (stall) or by the drop after the last write.
        if (allowed === 0) return;
        if (chunk.length > allowed) {
          head.chunk = chunk.subarray(allowed);
          chunk = chunk.subarray(0, allowed);
        } else this.queue.shift();
        this.link.counter += chunk.length;
      } else this.queue.shift();
      this.queued -= chunk.length;
      this.link.host.forwarded(this.direction, chunk.length);
      const flushed = this.sink.write(chunk, () => this.link.dropIfDue());
      if (!flushed) {
        this.waitingForDrain = true;
        this.sink.once('drain', () => {
          this.waitingForDrain = false;
          this.pump();
        });
        break;
      }
    }
    if (this.queued <= HIGH_WATER && this.source.isPaused()) this.source.resume();
    if (this.queue.length > 0 || this.endedAt === undefined || this.sink.writableEnded) return;
    if (!this.link.isStalled() && !this.delayed(this.endedAt)) this.sink.end();
  }

  /** In delay mode, true (with a timer set to pump again) while something that arrived at `at` must wait. */
  private delayed(at: number): boolean {
    const mode = this.link.host.mode();
    if (mode.kind !== 'delay') return false;
    // Re-checked against the clock when the timer fires: libuv's cached loop time lets a timer
    // fire up to ~1 ms before performance.now() says it is due.
    const wait = at + mode.ms - performance.now();
    if (wait <= 0) return false;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(wait));
    return true;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** One accepted client connection and its connection to the target. */
export class ProxyLink {
  /** Server→client bytes forwarded since accept or the last setMode (see ProxyMode). */
  counter = 0;
  private closed = false;
  private readonly up: Pump;
  private readonly down: Pump;

  constructor(
    readonly host: LinkHost,
    private readonly client: Socket,
    private readonly server: Socket,
  ) {
    this.up = new Pump(this, client, server, 'up');
    this.down = new Pump(this, server, client, 'down');
    for (const socket of [client, server]) {
      // ECONNRESET, EPIPE, ECONNREFUSED from the target: a broken link, never a crashed test.
      socket.on('error', () => this.destroy());
      // With allowHalfOpen a socket closes cleanly only once both of its directions are done
      // (or a stall holds its end back); the link is over when both are.
      socket.on('close', () => {
        if (client.destroyed && server.destroyed) this.destroy();
      });
    }
    this.dropIfDue();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  isStalled(): boolean {
    const mode = this.host.mode();
    return mode.kind === 'stall-after' && allowance(mode, this.counter) === 0;
  }

  /** Resets both sides once a drop-after allowance is used up. */
  dropIfDue(): void {
    const mode = this.host.mode();
    if (this.closed || mode.kind !== 'drop-after' || allowance(mode, this.counter) > 0) return;
    this.closed = true;
    this.stopPumps();
    this.client.resetAndDestroy();
    this.server.resetAndDestroy();
    this.host.closed(this);
  }

  modeChanged(): void {
    this.counter = 0;
    this.dropIfDue();
    this.up.pump();
    this.down.pump();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPumps();
    this.client.destroy();
    this.server.destroy();
    this.host.closed(this);
  }

  private stopPumps(): void {
    this.up.stop();
    this.down.stop();
  }
}
