import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/core/target.js';
import { readRemoteFile } from '../../src/remote/readLoop.js';
import { RECEIVE_WINDOW } from '../../src/remote/sftp.js';
import { resolveConnectSpec } from '../../src/ssh/config.js';
import { openSession } from '../../src/ssh/connect.js';
import { e2eSuite } from '../support/e2eSuite.js';
import { file, fileSeed, pseudoRandomBytes } from '../support/trees.js';

const e2e = e2eSuite({ prefix: 'gsync-e2e-readloop-' });

/** ssh2's channel fields the window lives in (see remote/sftp.ts). */
function windowOf(sftp: unknown): number {
  return (sftp as { incoming: { window: number } }).incoming.window;
}

describe('the read loop over a real sshd', () => {
  it('keeps the receive window wide through a read several times its size, and the bytes arrive intact', async () => {
    const size = 3 * RECEIVE_WINDOW + 12345;
    const remote = await e2e.remoteTree('window', { 'big.bin': file(size) });
    const spec = resolveConnectSpec(parseTarget(`${e2e.sshd.alias}:${remote}`), { configFile: e2e.sshd.configPath, env: e2e.sshd.env });
    const session = await openSession(spec, { env: e2e.sshd.env });
    try {
      // ssh2 alone keeps 1–2 MiB open: a read then carries ~2 MiB per round trip, whatever is asked.
      expect(windowOf(session.sftp)).toBe(RECEIVE_WINDOW);
      const local = join(await e2e.tempDir(), 'big.bin');
      const fd = openSync(local, 'w');
      let narrowest = Infinity;
      try {
        const outcome = await readRemoteFile(session.sftp, join(remote, 'big.bin'), fd, { size, mtime: 0 }, {
          inFlight: 64,
          onData: () => (narrowest = Math.min(narrowest, windowOf(session.sftp))),
        });
        // mtime 0 was not the file's: the loop says so, having read every byte.
        expect(outcome).toMatchObject({ status: 'changed', bytes: size });
      } finally {
        closeSync(fd);
      }
      expect(narrowest).toBeGreaterThanOrEqual(RECEIVE_WINDOW / 2);
      const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
      expect(digest(readFileSync(local))).toBe(digest(pseudoRandomBytes(fileSeed('big.bin', size), size)));
    } finally {
      session.close();
    }
  });
});
