import { connect } from 'node:net';

/** One attempt: connects and resolves true if the first line the server sends is an SSH-2.0 banner. */
export function readsSshBanner(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // RFC 4253 §4.2: the identification line is at most 255 bytes, ended by CRLF.
      if (received.includes('\n') || received.length > 255) finish(received.startsWith('SSH-2.0-'));
    });
  });
}

/**
 * Polls until the port serves an SSH banner, with a short doubling backoff (10 ms → 200 ms) rather
 * than a fixed sleep, bounded by `timeoutMs`. Rejects with the time spent when it never does.
 */
export async function waitForBanner(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let backoff = 10;
  while (Date.now() < deadline) {
    if (await readsSshBanner(port, Math.max(1, Math.min(1_000, deadline - Date.now())))) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, Math.max(0, deadline - Date.now()))));
    backoff = Math.min(backoff * 2, 200);
  }
  throw new Error(`no SSH banner on 127.0.0.1:${port} within ${timeoutMs} ms`);
}
