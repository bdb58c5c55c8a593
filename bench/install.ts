import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The programs the bench runs, and the Debian package each comes from. */
const NEEDED: readonly { path: string; pkg: string }[] = [
  { path: '/usr/bin/rsync', pkg: 'rsync' },
  { path: '/usr/bin/rclone', pkg: 'rclone' },
  { path: '/usr/bin/lftp', pkg: 'lftp' },
  { path: '/usr/bin/time', pkg: 'time' },
  { path: '/usr/bin/scp', pkg: 'openssh-client' },
  { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { path: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { path: '/usr/sbin/ip', pkg: 'iproute2' },
];

/** Installs the missing peers from Debian packages (as root), or says what to install. */
export function installPeers(log: (line: string) => void): void {
  const missing = [...new Set(NEEDED.filter((n) => !existsSync(n.path) && !existsSync(n.path.replace('/usr', ''))).map((n) => n.pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`the bench needs ${missing.join(' ')}: run it as root, or apt-get install -y ${missing.join(' ')}`);
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const result = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${result.status})`);
  }
}
