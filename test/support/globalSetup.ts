import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestUser } from './ensureTestUser.js';
import { killTrees, pidsWithCmdline } from './processTree.js';
import { RUN_TAG_ENV, sshdDirPrefix } from './runTag.js';
import { SSHD_PATH } from './sshdPath.js';
import { removeTempDir } from './tmp.js';

/**
 * Runs once per `vitest` invocation, before any worker: checks OpenSSH is installed and, as root,
 * prepares what sshd needs (the test user, the privilege-separation directory). Returns the
 * teardown.
 */
export default async function setup(): Promise<() => Promise<void>> {
  for (const tool of [SSHD_PATH, '/usr/bin/ssh-keygen']) {
    try {
      await access(tool, constants.X_OK);
    } catch {
      throw new Error(`${tool} is missing: the e2e tests need a real OpenSSH; apt-get install -y openssh-server`);
    }
  }
  // Workers are forked after this runs and inherit the tag (see runTag.ts).
  process.env[RUN_TAG_ENV] ??= `${process.pid}${randomBytes(3).toString('hex')}`;
  if (process.getuid?.() === 0) {
    // sshd chroots its pre-auth child here and refuses to start without it; fresh containers lack it.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    await chmod('/run/sshd', 0o755);
    await ensureTestUser();
  }
  return teardown;
}

/** Sweeps up what this run leaked if a worker died before its sshd.stop(): processes, then dirs. */
export async function teardown(): Promise<void> {
  const prefix = sshdDirPrefix();
  killTrees(pidsWithCmdline((cmdline) => /^(sshd|\/usr\/sbin\/sshd)\b/.test(cmdline) && cmdline.includes(`/${prefix}`)));
  for (const name of await readdir(tmpdir())) {
    if (name.startsWith(prefix)) await removeTempDir(join(tmpdir(), name));
  }
}
