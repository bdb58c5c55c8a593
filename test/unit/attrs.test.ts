import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setDirAttrs, setFileMode } from '../../src/local/attrs.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-attrs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('attributes are set through a descriptor, never through a link', () => {
  it('sets a directory mode and mtime', async () => {
    mkdirSync(join(dir, 'd'));
    await setDirAttrs(join(dir, 'd'), 0o750, 1_600_000_000);
    const st = statSync(join(dir, 'd'));
    expect(st.mode & 0o777).toBe(0o750);
    expect(Math.floor(st.mtimeMs / 1000)).toBe(1_600_000_000);
  });

  it('refuses a symlink where a directory should be, leaving its target as it was', () => {
    mkdirSync(join(dir, 'outside'), { mode: 0o755 });
    symlinkSync(join(dir, 'outside'), join(dir, 'd'));
    const before = statSync(join(dir, 'outside'));
    // O_DIRECTORY with O_NOFOLLOW: Linux says ENOTDIR for a link.
    expect(thrownBy(() => setDirAttrs(join(dir, 'd'), 0o777, 1))).toMatchObject({ code: 'ENOTDIR' });
    const after = statSync(join(dir, 'outside'));
    expect([after.mode, after.mtimeMs]).toEqual([before.mode, before.mtimeMs]);
  });

  it('sets a file mode, and refuses a symlink where the file should be', async () => {
    writeFileSync(join(dir, 'f'), 'x', { mode: 0o600 });
    await setFileMode(join(dir, 'f'), 0o644);
    expect(statSync(join(dir, 'f')).mode & 0o777).toBe(0o644);
    symlinkSync(join(dir, 'f'), join(dir, 'l'));
    await expect(setFileMode(join(dir, 'l'), 0o666)).rejects.toMatchObject({ code: 'ELOOP' });
    expect(statSync(join(dir, 'f')).mode & 0o777).toBe(0o644);
  });
});

/** What `run` throws (it is synchronous), or undefined. */
function thrownBy(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
