import { chmod, link } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { e2eSuite } from '../support/e2eSuite.js';
import { runGsync } from '../support/runGsync.js';
import { dir, file, readTree, type TreeSpec } from '../support/trees.js';

/**
 * Small files through the server's own GNU tar (the fast path): the same copy, byte for byte and
 * with the same modes and mtimes, as SFTP makes; and where tar cannot vouch for a file, SFTP
 * takes it and says what SFTP would say.
 */

const e2e = e2eSuite({ prefix: 'gsync-e2e-tar-' });

/**
 * Names tar must carry untouched: spaces, a newline, a backslash, an option's look, non-ASCII, a
 * name past tar's 100-byte header field. Each directory holds enough files to be worth a tar of
 * its own (tarLane.ts: minFiles), however the listings are spread in time.
 */
const MODES = [0o600, 0o644, 0o444, 0o755];

function manySmallFiles(): TreeSpec {
  const odd: TreeSpec = {
    'new\nline ü.txt': file('odd name\n'),
    '--to-command=sh back\\slash': file('an option, were it not a name\n'),
    empty: file(''),
    [`${'long-file-name-'.repeat(12)}.bin`]: file(3000),
  };
  const spec: TreeSpec = {};
  for (let d = 0; d < 4; d++) {
    const files: TreeSpec = d === 0 ? { ...odd } : {};
    // Read-only and executable ones too: a partial by tar is made with the file's final mode.
    for (let f = 0; f < 80; f++) files[`f${f}.txt`] = file(1 + ((d * 80 + f) * 97) % 9000, { mode: MODES[f % MODES.length]!, mtime: 1_700_000_000 + f });
    spec[`dir ${d}`] = dir(files, { mtime: 1_700_001_000 + d });
  }
  return spec;
}

type Event = Record<string, unknown> & { event: string };

function fileEvents(stdout: string): Event[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Event)
    .filter((e) => e.event === 'file');
}

describe('small files through the server tar', () => {
  it('copies what SFTP copies, byte for byte, with modes and mtimes; --no-tar goes by SFTP alone', async () => {
    const remote = await e2e.remoteTree('small', manySmallFiles());
    // A second name of one inode: sent as a file of its own (--hard-dereference), not as a link.
    await link(join(remote, 'dir 0', 'f1.txt'), join(remote, 'dir 0', 'hardlink.txt'));
    const want = await readTree(remote);
    const files = [...want.values()].filter((e) => e.kind === 'file').length;

    const viaTar = join(await e2e.tempDir(), 'mirror');
    const first = await runGsync(['pull', '--json', `${e2e.sshd.alias}:${remote}`, viaTar], { env: e2e.sshd.env });
    expect(first.code, first.stderr).toBe(0);
    const tarEvents = fileEvents(first.stdout);
    expect(tarEvents).toHaveLength(files);
    expect(tarEvents.filter((e) => e.transfer === 'tar')).toHaveLength(files);
    expect(await readTree(viaTar)).toEqual(want);

    const bySftp = join(await e2e.tempDir(), 'mirror');
    const plain = await runGsync(['pull', '--json', '--no-tar', `${e2e.sshd.alias}:${remote}`, bySftp], { env: e2e.sshd.env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(fileEvents(plain.stdout).map((e) => e.transfer)).toEqual(Array.from({ length: files }, () => 'whole'));
    expect(await readTree(bySftp)).toEqual(want);

    const again = await runGsync(['pull', '--json', `${e2e.sshd.alias}:${remote}`, viaTar], { env: e2e.sshd.env });
    expect(again.code, again.stderr).toBe(0);
    expect(fileEvents(again.stdout)).toEqual([]);
  });

  it('a file tar cannot read sends its batch by SFTP: the same problem, the same exit code, the rest copied', async () => {
    const remote = await e2e.remoteTree('unreadable', {
      // Enough files that tar is worth a process on the server (tarLane.ts: minFiles).
      ok: dir(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, file(500 + i)]))),
      'secret.txt': file('not for you\n'),
    });
    await chmod(join(remote, 'secret.txt'), 0o000);
    const outcomes = [];
    for (const flags of [[], ['--no-tar']]) {
      const local = join(await e2e.tempDir(), 'mirror');
      const result = await runGsync(['pull', ...flags, `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
      const copied = await readTree(local);
      outcomes.push({ code: result.code, problem: /secret\.txt.*(denied|permission)/i.test(result.stderr), files: [...copied.keys()].filter((k) => k.startsWith('ok/')).length });
      const want = await readTree(join(remote, 'ok'));
      for (const [rel, entry] of want) expect(copied.get(`ok/${rel}`), rel).toEqual(entry);
    }
    expect(outcomes[0]).toEqual({ code: 23, problem: true, files: 100 });
    expect(outcomes[1]).toEqual(outcomes[0]);
  });
});
