import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { ProxyLink } from './proxyLink.js';
import type { ProxyMode } from './proxyMode.js';

export type { ProxyMode } from './proxyMode.js';

/** A real TCP proxy on 127.0.0.1 in front of a target port, for fault tests. */
export interface TcpProxy {
  readonly port: number;
  /** Client → server bytes forwarded (written to the target), total over the proxy's life. */
  readonly bytesUp: number;
  /** Server → client bytes forwarded (written to clients), total; held or dropped bytes are not counted. */
  readonly bytesDown: number;
  /** Connections accepted so far (including ones reset at once by `drop-after 0`). */
  readonly connections: number;
  /** Switches every open and future connection to `mode`, and restarts each one's counter (see ProxyMode). */
  setMode(mode: ProxyMode): void;
  /**
   * Resolves when bytesDown first reaches n (at once if it already has): an event, not a poll.
   * Rejects if the proxy is closed first.
   */
  waitForBytesDown(n: number): Promise<void>;
  /** Destroys all sockets, closes the server. */
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1, port 0 (the kernel picks), forwarding to 127.0.0.1:targetPort. */
export async function startProxy(targetPort: number, mode: ProxyMode = { kind: 'pass' }): Promise<TcpProxy> {
  let current = mode;
  let bytesUp = 0;
  let bytesDown = 0;
  let connections = 0;
  const links = new Set<ProxyLink>();
  const waiters = new Set<{ n: number; resolve: () => void; reject: (error: Error) => void }>();
  const host = {
    mode: () => current,
    forwarded(direction: 'up' | 'down', bytes: number): void {
      if (direction === 'up') {
        bytesUp += bytes;
        return;
      }
      bytesDown += bytes;
      for (const waiter of waiters) {
        if (bytesDown >= waiter.n) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
    },
    closed: (link: ProxyLink) => links.delete(link),
  };
  // allowHalfOpen on both sides: a FIN is forwarded as a FIN, after the data queued before it.
  const server = createServer({ allowHalfOpen: true }, (client: Socket) => {
    connections++;
    const upstream = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    const link = new ProxyLink(host, client, upstream);
    if (!link.isClosed) links.add(link);
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    get bytesUp() {
      return bytesUp;
    },
    get bytesDown() {
      return bytesDown;
    },
    get connections() {
      return connections;
    },
    setMode(next: ProxyMode): void {
      current = next;
      for (const link of [...links]) link.modeChanged();
    },
    waitForBytesDown(n: number): Promise<void> {
      if (bytesDown >= n) return Promise.resolve();
      if (closing !== undefined) return Promise.reject(new Error('proxy is closed'));
      return new Promise((resolve, reject) => waiters.add({ n, resolve, reject }));
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const link of [...links]) link.destroy();
        for (const waiter of waiters) waiter.reject(new Error(`proxy closed at ${bytesDown} bytes down, before ${waiter.n}`));
        waiters.clear();
      });
      return closing;
    },
  };
}
