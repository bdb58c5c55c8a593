import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/pipeline/readStatus.js';
import { StateStore } from '../../src/state/store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-status-'));
  mkdirSync(join(dir, '.gsync'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readStatus', () => {
  it('an empty state file (a first run that stopped before recording anything) records no runs', () => {
    writeFileSync(join(dir, '.gsync', 'state.db'), '');
    expect(readStatus(dir, 10)).toStrictEqual({ runs: [], partials: [], dirs: [] });
  });

  it('a state file with a run lists it', () => {
    const store = StateStore.open(join(dir, '.gsync', 'state.db'));
    store.startRun('box:/data', 1_700_000_000_000);
    store.close();
    expect(readStatus(dir, 10).runs).toMatchObject([{ id: 1, source: 'box:/data', exitCode: null }]);
  });

  it('no state file is said to be missing', () => {
    expect(() => readStatus(dir, 10)).toThrow(expect.objectContaining({ kind: 'local-path', message: expect.stringContaining('has no gsync state') }));
  });
});
