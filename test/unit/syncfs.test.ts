import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncFilesystem } from '../../src/local/syncfs.js';

describe('syncFilesystem', () => {
  it('answers several requests at once, each in turn, through the one shell', async () => {
    await expect(Promise.all([syncFilesystem(tmpdir()), syncFilesystem('/'), syncFilesystem(tmpdir())])).resolves.toHaveLength(3);
  });

  it('rejects a path sync -f cannot open, and goes on answering after it', async () => {
    await expect(syncFilesystem(join(tmpdir(), 'gsync-no-such-dir', 'x'))).rejects.toThrow(/sync -f failed/);
    await expect(syncFilesystem(tmpdir())).resolves.toBeUndefined();
  });

  it('refuses a path with a newline rather than splitting it into two requests', async () => {
    await expect(syncFilesystem(`${tmpdir()}\n/`)).rejects.toThrow(/newline/);
    await expect(syncFilesystem(tmpdir())).resolves.toBeUndefined();
  });
});
