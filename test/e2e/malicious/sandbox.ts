import { createHash } from 'node:crypto';
import { copyFile, lchown, lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { renderClientHost } from '../../support/sshdConfig.js';
import { testUser, type TestUser } from '../../support/testUser.js';
import { makeTempDir } from '../../support/tmp.js';

/**
 * One scenario's private corner of the disk. gsync pulls into `mirror`; everything else under
 * `outside` is the canary, snapshotted before each run and compared after:
 *
 *   base/                        makeTempDir('gsync-e2e-mal-')
 *     home/.ssh/                 config (one Host: `hostile`), known_hosts, id_ed25519
 *     tmp/                       gsync's TMPDIR
 *     outside/                   the canary root
 *       above.txt
 *       parent/                  the destination's parent, and gsync's cwd
 *         sibling.txt
 *         sibling-dir/s.txt
 *         target/                where escaping symlinks point (`../target` from the mirror)
 *           f.txt  g.txt  sub/h.txt
 *         mirror/                the destination, made empty before the first run
 *
 * As root, everything under base belongs to the unprivileged test user and gsync runs as that
 * user: a 000 directory then really locks out, and a write through a symlink into the canary
 * really succeeds, as it would for a user.
 */
export interface Sandbox {
  readonly base: string;
  readonly home: string;
  readonly tmp: string;
  readonly outside: string;
  readonly parent: string;
  readonly target: string;
  readonly mirror: string;
  readonly identityPath: string;
  /** An SSH_ASKPASS program that answers the key's passphrase. */
  readonly askpassPath: string;
  readonly passphrase: string;
  /** Who gsync runs as; undefined: as this process's user. */
  readonly runner: TestUser | undefined;
}

export const ALIAS = 'hostile';

export interface ClientKeys {
  /** The client's private key, copied into each sandbox; encrypted with `passphrase`. */
  readonly identityPath: string;
  readonly passphrase: string;
  readonly publicKeyLine: string;
  /** The server's private host key (OpenSSH format) and its public "type AAAA..." line. */
  readonly hostKey: Buffer;
  readonly hostKeyLine: string;
}

export async function makeSandbox(keys: ClientKeys, port: number): Promise<Sandbox> {
  const base = await makeTempDir('gsync-e2e-mal-');
  const home = join(base, 'home');
  const ssh = join(home, '.ssh');
  const tmp = join(base, 'tmp');
  const outside = join(base, 'outside');
  const parent = join(outside, 'parent');
  const target = join(parent, 'target');
  const mirror = join(parent, 'mirror');
  await mkdir(ssh, { recursive: true, mode: 0o700 });
  await mkdir(tmp, { mode: 0o700 });
  await mkdir(join(target, 'sub'), { recursive: true });
  await mkdir(join(parent, 'sibling-dir'));
  await mkdir(mirror);
  await writeFile(join(outside, 'above.txt'), 'above the destination\n');
  await writeFile(join(parent, 'sibling.txt'), 'beside the destination\n');
  await writeFile(join(parent, 'sibling-dir', 's.txt'), 'in a sibling directory\n');
  await writeFile(join(target, 'f.txt'), 'a symlink target: must never change\n');
  await writeFile(join(target, 'g.txt'), 'another target\n', { mode: 0o600 });
  await writeFile(join(target, 'sub', 'h.txt'), 'deeper in the target\n');

  const identityPath = join(ssh, 'id_ed25519');
  await copyFile(keys.identityPath, identityPath);
  const askpassPath = join(home, 'askpass');
  await writeFile(askpassPath, `#!/bin/sh\nprintf '%s\\n' '${keys.passphrase}'\n`, { mode: 0o700 });
  const knownHostsPath = join(ssh, 'known_hosts');
  const runner = process.getuid?.() === 0 ? testUser() : undefined;
  await writeFile(join(ssh, 'config'), renderClientHost({ alias: ALIAS, port, user: clientUser(), identityPath, knownHostsPath }), { mode: 0o600 });
  await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${keys.hostKeyLine}\n`, { mode: 0o600 });
  const box: Sandbox = { base, home, tmp, outside, parent, target, mirror, identityPath, askpassPath, passphrase: keys.passphrase, runner };
  await handOver(box);
  return box;
}

/** The login name gsync presents (and the hostile server accepts): the runner's. */
export function clientUser(): string {
  return process.getuid?.() === 0 ? testUser().name : userInfo().username;
}

/** Gives everything under base to the runner (a no-op unless root); symlinks themselves, never their targets. */
export async function handOver(box: Sandbox): Promise<void> {
  const runner = box.runner;
  if (runner === undefined) return;
  const walk = async (path: string): Promise<void> => {
    await lchown(path, runner.uid, runner.gid);
    const stats = await lstat(path);
    if (!stats.isDirectory()) return;
    for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(box.base);
}

/** What is compared of each canary entry: any change to content, mode, times or owner counts. */
interface CanaryEntry {
  readonly kind: string;
  readonly mode: string;
  readonly owner: string;
  readonly size: string;
  readonly mtimeNs: string;
  /** Metadata written through a symlink (chmod, utimes, chown, even to the same values) moves ctime. */
  readonly ctimeNs: string;
  readonly sha256?: string;
  readonly target?: string;
}

export type CanarySnapshot = Map<string, CanaryEntry>;

/** Every entry under `outside` (itself included) except the mirror's own subtree, by absolute path. */
export async function snapshotCanary(box: Sandbox): Promise<CanarySnapshot> {
  const snapshot: CanarySnapshot = new Map();
  const walk = async (path: string): Promise<void> => {
    if (path === box.mirror) return;
    const stats = await lstat(path, { bigint: true });
    const kind = stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : 'special';
    snapshot.set(path, {
      kind,
      mode: `0${(stats.mode & 0o7777n).toString(8)}`,
      owner: `${stats.uid}:${stats.gid}`,
      size: String(stats.size),
      mtimeNs: String(stats.mtimeNs),
      ctimeNs: String(stats.ctimeNs),
      ...(kind === 'file' ? { sha256: createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16) } : {}),
      ...(kind === 'symlink' ? { target: await readlink(path) } : {}),
    });
    if (kind === 'dir') for (const name of (await readdir(path)).sort()) await walk(join(path, name));
  };
  await walk(box.outside);
  return snapshot;
}

/** One line per difference: "canary changed: <path>: mode 0644 → 0777", "canary entry appeared: <path> (file)"... */
export function canaryDifferences(before: CanarySnapshot, after: CanarySnapshot): string[] {
  const lines: string[] = [];
  for (const [path, was] of before) {
    const now = after.get(path);
    if (now === undefined) {
      lines.push(`canary entry vanished: ${path} (${was.kind})`);
      continue;
    }
    const changes = (Object.keys(was) as Array<keyof CanaryEntry>)
      .filter((field) => was[field] !== now[field])
      .map((field) => `${field} ${was[field] ?? '-'} → ${now[field] ?? '-'}`);
    if (changes.length > 0) lines.push(`canary changed: ${path}: ${changes.join(', ')}`);
  }
  for (const [path, now] of after) {
    if (!before.has(path)) lines.push(`canary entry appeared: ${path} (${now.kind}${now.kind === 'file' ? `, ${now.size} bytes` : ''})`);
  }
  return lines;
}

/** A path under the mirror as tests name it: relative, posix. */
export const mirrorRelative = (box: Sandbox, path: string): string => relative(box.mirror, path).split('\\').join('/');
