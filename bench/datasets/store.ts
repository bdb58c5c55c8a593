import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetName } from '../types.js';
import { EPOCH } from './content.js';
import { LAYOUTS } from './layouts.js';
import { buildManifest, walk, type Manifest } from './manifest.js';

/** Bump when any layout changes: cached datasets of another generation are rebuilt. */
const GENERATION = 'gsync-bench-data-1';

/** A dataset on disk: its versions and what a correct copy of each holds. */
export interface Dataset {
  readonly name: DatasetName;
  readonly v1: string;
  readonly v1Manifest: Manifest;
  readonly v2?: string;
  readonly v2Manifest?: Manifest;
}

/**
 * Makes (once) and returns dataset `name` under `dataDir`/name: v1/, v2/ (hard links to v1 where
 * unchanged), and their manifests cached as JSON. A `ready` file marks a complete generation, so
 * an interrupted one is redone from scratch.
 */
export function ensureDataset(dataDir: string, name: DatasetName, log: (line: string) => void): Dataset {
  const layout = LAYOUTS.get(name);
  if (layout === undefined) throw new Error(`unknown dataset ${name}`);
  const root = join(dataDir, name);
  const ready = join(root, 'ready');
  const v1 = join(root, 'v1');
  const v2 = join(root, 'v2');
  if (!existsSync(ready) || readFileSync(ready, 'utf8') !== GENERATION) {
    log(`generating dataset ${name} in ${root} (once)`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(v1, { recursive: true });
    layout.writeV1(v1);
    setDirTimes(v1, EPOCH);
    writeFileSync(join(root, 'v1.manifest.json'), JSON.stringify(buildManifest(v1)));
    if (layout.mutateToV2 !== undefined) {
      execFileSync('cp', ['-al', v1, v2]);
      layout.mutateToV2(v2);
      setDirTimes(v2, EPOCH + 31 * 86_400);
      writeFileSync(join(root, 'v2.manifest.json'), JSON.stringify(buildManifest(v2)));
    }
    writeFileSync(ready, GENERATION);
  }
  const load = (version: string): Manifest => JSON.parse(readFileSync(join(root, `${version}.manifest.json`), 'utf8')) as Manifest;
  const base = { name, v1, v1Manifest: load('v1') };
  return layout.mutateToV2 === undefined ? base : { ...base, v2, v2Manifest: load('v2') };
}

/** Directory mtimes change as files are written; pin them, deepest first, so they too are the same every time. */
function setDirTimes(root: string, mtime: number): void {
  const dirs = [...walk(root)].filter((e) => e.kind === 'dir').map((e) => join(root, e.rel));
  for (const dir of dirs.reverse()) utimesSync(dir, mtime, mtime);
  utimesSync(root, mtime, mtime);
}
