import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startWanProxy, type WanLinkOptions, type WanProxy } from '../../bench/wanProxy.js';
import { pseudoRandomBytes } from '../support/pseudoRandom.js';

const MiB = 1024 * 1024;

/** Torn down after each test, whatever it asserted. */
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A half-open-capable server on 127.0.0.1, port 0, that hands each connection to `handle`. */
async function startTarget(handle: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    handle(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

async function startProxy(targetPort: number, link: Omit<WanLinkOptions, 'targetHost' | 'targetPort'>): Promise<WanProxy> {
  const proxy = await startWanProxy({ targetHost: '127.0.0.1', targetPort, ...link });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** A connected client with allowHalfOpen, destroyed at cleanup. */
async function dial(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  cleanups.push(() => void socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Everything a socket receives up to its FIN. */
function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('startWanProxy', () => {
  it('forwards both directions intact and in order, and counts payload bytes exactly', async () => {
    // Different sizes each way, so a counter swapped between directions shows.
    const upData = pseudoRandomBytes('wan-up', 8 * MiB);
    const downData = pseudoRandomBytes('wan-down', 8 * MiB + 123);
    let accepted: (uploaded: Promise<Buffer>) => void = () => undefined;
    const received = new Promise<Buffer>((resolve) => (accepted = resolve));
    const { port } = await startTarget((socket) => {
      accepted(readAll(socket));
      socket.end(downData);
    });
    const proxy = await startProxy(port, { oneWayDelayMs: 5 });
    const client = await dial(proxy.port);
    const downloaded = readAll(client);
    client.end(upData);

    expect(sha256(await downloaded)).toBe(sha256(downData));
    expect(sha256(await received)).toBe(sha256(upData));
    expect(proxy.counters()).toEqual({ down: downData.length, up: upData.length });
  });

  it('delays each direction: a round trip through a 30 ms one-way link takes at least 60 ms', async () => {
    const { port } = await startTarget((socket) => socket.pipe(socket));
    const proxy = await startProxy(port, { oneWayDelayMs: 30 });
    const client = await dial(proxy.port);
    for (let trip = 0; trip < 3; trip++) {
      const echoed = new Promise<void>((resolve) => client.once('data', () => resolve()));
      const sent = performance.now();
      client.write(`ping ${trip}`);
      await echoed;
      const rtt = performance.now() - sent;
      expect(rtt).toBeGreaterThanOrEqual(60);
      expect(rtt).toBeLessThan(1000);
    }
    expect(proxy.counters()).toEqual({ up: 18, down: 18 });
  });

  it('paces a capped direction: 2 MiB at 80 Mbit/s takes about 210 ms', async () => {
    const size = 2 * MiB;
    let arrived: (received: { bytes: number; at: number }) => void = () => undefined;
    const received = new Promise<{ bytes: number; at: number }>((resolve) => (arrived = resolve));
    const { port } = await startTarget((socket) => {
      void readAll(socket).then((data) => arrived({ bytes: data.length, at: performance.now() }));
    });
    const proxy = await startProxy(port, { oneWayDelayMs: 0, rateBitsPerSecond: 80e6 });
    const client = await dial(proxy.port);
    const started = performance.now();
    client.end(pseudoRandomBytes('wan-cap', size));
    const { bytes, at } = await received;
    expect(bytes).toBe(size);
    const seconds = (at - started) / 1000;
    const ideal = (size * 8) / 80e6;
    expect(seconds).toBeGreaterThanOrEqual(ideal * 0.9);
    expect(seconds).toBeLessThan(ideal * 3);
    expect(proxy.counters().up).toBe(size);
  });

  it('forwards a FIN after the data queued before it, and keeps the other direction open', async () => {
    const size = 3 * MiB + 7;
    let bytesAtEnd: number | undefined;
    const { port } = await startTarget((socket) => {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('end', () => {
        bytesAtEnd = bytes;
        // Half-open: the target can still answer after the client's FIN.
        socket.end(`got ${bytes}`);
      });
    });
    const proxy = await startProxy(port, { oneWayDelayMs: 10 });
    const client = await dial(proxy.port);
    const reply = readAll(client);
    client.end(pseudoRandomBytes('wan-fin', size));

    expect((await reply).toString()).toBe(`got ${size}`);
    expect(bytesAtEnd).toBe(size);
  });

  it('destroys both sides when one side resets', async () => {
    let targetSide: Socket | undefined;
    const { port } = await startTarget((socket) => {
      targetSide = socket;
      socket.once('data', () => socket.resetAndDestroy());
    });
    const proxy = await startProxy(port, { oneWayDelayMs: 5 });
    const client = await dial(proxy.port);
    client.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.write('reset me');

    await closed;
    expect(targetSide?.destroyed).toBe(true);
  });

  it('close() destroys live connections, stops listening and is idempotent', async () => {
    let targetClosed: Promise<void> | undefined;
    const { port } = await startTarget((socket) => {
      targetClosed = new Promise((resolve) => socket.once('close', () => resolve()));
      socket.pipe(socket);
    });
    const proxy = await startProxy(port, { oneWayDelayMs: 5 });
    const client = await dial(proxy.port);
    client.on('error', () => undefined);
    const echoed = new Promise<void>((resolve) => client.once('data', () => resolve()));
    client.write('hello');
    await echoed;
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    await proxy.close();
    await proxy.close();
    await clientClosed;
    await targetClosed;
    const refused = connect({ host: '127.0.0.1', port: proxy.port });
    await expect(
      new Promise((resolve, reject) => {
        refused.once('connect', resolve);
        refused.once('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects a negative delay and a non-positive rate', async () => {
    await expect(startWanProxy({ targetHost: '127.0.0.1', targetPort: 1, oneWayDelayMs: -1 })).rejects.toThrow(RangeError);
    await expect(
      startWanProxy({ targetHost: '127.0.0.1', targetPort: 1, oneWayDelayMs: 0, rateBitsPerSecond: 0 }),
    ).rejects.toThrow(RangeError);
  });
});
