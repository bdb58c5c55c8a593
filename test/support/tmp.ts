import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates a fresh directory `<os.tmpdir()>/<prefix>XXXXXX` (mode 0700, as mkdtemp makes it). */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Removes `dir` and everything under it; a missing dir is fine. Tests leave mode-000 files and
 * directories behind on purpose, which a non-root rm cannot descend into, so on failure every
 * directory is made traversable (0700) first and the removal retried. Root needs no help.
 */
export async function removeTempDir(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    await makeOwnerAccessible(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function makeOwnerAccessible(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined || !stat.isDirectory()) return;
  await chmod(path, 0o700).catch(() => undefined);
  const names = await readdir(path).catch(() => [] as string[]);
  for (const name of names) await makeOwnerAccessible(join(path, name));
}
