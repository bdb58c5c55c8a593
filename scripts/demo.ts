/**
 * The README's demo: starts a throwaway OpenSSH sshd on 127.0.0.1 serving a copy of
 * fixtures/training-run, pulls it with gsync through an ~/.ssh/config alias, pulls again to show
 * that nothing is re-sent, prints `gsync status`, and stops the sshd. Nothing outside
 * ./demo-output and a temp dir is touched; the temp dir goes with the sshd.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSshd } from '../test/support/sshd.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const output = join(repo, 'demo-output', 'training-run');

// The login user is whoever runs the demo: no account is created on the user's machine.
const me = userInfo();
const sshd = await startSshd({ user: { name: me.username, uid: me.uid, gid: me.gid } });
try {
  const served = join(sshd.dataDir, 'training-run');
  await cp(join(repo, 'fixtures', 'training-run'), served, { recursive: true, verbatimSymlinks: true });
  await mkdir(join(served, 'eval'));
  await rm(output, { recursive: true, force: true });

  const gsync = (...args: string[]): number => {
    console.log(`\n$ gsync ${args.join(' ')}`);
    const result = spawnSync(process.execPath, [join(repo, 'bin', 'run.js'), ...args], { env: sshd.env, stdio: 'inherit' });
    return result.status ?? 1;
  };

  console.log(`sshd for the demo: 127.0.0.1:${sshd.port}, alias '${sshd.alias}' in ${sshd.configPath}`);
  const source = `${sshd.alias}:${served}`;
  const first = gsync('pull', source, output);
  const second = gsync('pull', source, output);
  gsync('status', output);
  console.log(`\nThe mirror is in ${output}`);
  process.exitCode = first === 0 && second === 0 ? 0 : 1;
} finally {
  await sshd.stop();
}
