import { copyFileSync, mkdirSync, renameSync, rmSync, utimesSync, appendFileSync, openSync, writeSync, closeSync, futimesSync } from 'node:fs';
import { join } from 'node:path';
import { pseudoRandomBytes } from '../../test/support/pseudoRandom.js';
import type { DatasetName } from '../types.js';
import { EPOCH, between, logLines, metricsJson, prng, writeRandomFile, writeTextFile } from './content.js';

const MiB = 1 << 20;
/** v2's changes carry this mtime (30 days after EPOCH), so size+mtime tools see them. */
const LATER = EPOCH + 30 * 86_400;

/** How one dataset is made: v1 from nothing, v2 (if any) by replacing files in a hard-linked copy of v1. */
export interface Layout {
  readonly name: DatasetName;
  writeV1(root: string): void;
  /** Applied to a `cp -al` of v1: it must never write into an existing inode (that is v1's too). */
  mutateToV2?(root: string): void;
}

// ---- big: 2 × 512 MiB incompressible -------------------------------------------------------

const big: Layout = {
  name: 'big',
  writeV1(root) {
    for (const shard of [0, 1]) writeRandomFile(join(root, `shard-${shard}.bin`), `big/shard-${shard}`, 512 * MiB, EPOCH + shard);
  },
  mutateToV2(root) {
    // An append of 64 MiB to one file, and 1 MiB rewritten in the middle of the other.
    replaceFile(join(root, 'shard-0.bin'), (fd) => writeSync(fd, pseudoRandomBytes('big/shard-0/append', 64 * MiB), 0, 64 * MiB, 512 * MiB));
    replaceFile(join(root, 'shard-1.bin'), (fd) => writeSync(fd, pseudoRandomBytes('big/shard-1/middle', MiB), 0, MiB, 256 * MiB));
  },
};

// ---- small: 20,000 files of 1–16 KiB in 200 leaf dirs (5 × 5 × 8), 3 levels ----------------

const FILES_PER_LEAF = 100;

function smallLeaves(): string[] {
  const leaves: string[] = [];
  for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) for (let c = 0; c < 8; c++) leaves.push(`l1-${a}/l2-${b}/l3-${c}`);
  return leaves;
}

function smallName(n: number): string {
  return `file-${String(n).padStart(3, '0')}.bin`;
}

/** One leaf of `small`: the same names, sizes and bytes wherever it is written (small100 reuses it). */
function writeSmallLeaf(dir: string, leaf: string, leafIndex: number): void {
  mkdirSync(dir, { recursive: true });
  for (let n = 0; n < FILES_PER_LEAF; n++) {
    const rel = `${leaf}/${smallName(n)}`;
    const size = between(prng(`small/size/${rel}`), 1024, 16 * 1024);
    writeRandomFile(join(dir, smallName(n)), `small/${rel}`, size, EPOCH + leafIndex * FILES_PER_LEAF + n);
  }
}

const small: Layout = {
  name: 'small',
  writeV1(root) {
    smallLeaves().forEach((leaf, index) => writeSmallLeaf(join(root, leaf), leaf, index));
  },
  mutateToV2(root) {
    // 1% each: touched (mtime only), rewritten (same size, new bytes), deleted; one file added per leaf.
    smallLeaves().forEach((leaf, leafIndex) => {
      for (let n = 0; n < FILES_PER_LEAF; n++) {
        const path = join(root, leaf, smallName(n));
        const i = leafIndex * FILES_PER_LEAF + n;
        if (i % 100 === 0) replaceFile(path, () => undefined, LATER + i);
        if (i % 100 === 1) {
          const size = between(prng(`small/size/${leaf}/${smallName(n)}`), 1024, 16 * 1024);
          rmSync(path);
          writeRandomFile(path, `small/${leaf}/${smallName(n)}/v2`, size, LATER + i);
        }
        if (i % 100 === 2) rmSync(path);
      }
      writeRandomFile(join(root, leaf, 'new-000.bin'), `small/${leaf}/new`, between(prng(`small/new/${leaf}`), 1024, 16 * 1024), LATER + leafIndex);
    });
  },
};

const small100: Layout = {
  name: 'small100',
  writeV1(root) {
    const leaf = smallLeaves()[0] ?? 'l1-0/l2-0/l3-0';
    writeSmallLeaf(root, leaf, 0);
  },
};

// ---- mixed: a training run: 20 step dirs of a 50 MiB checkpoint, 25 JSON and 25 logs ----------

const STEPS = 20;
const PER_KIND = 25;

function stepName(step: number): string {
  return `step-${String(step * 1000).padStart(6, '0')}`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function logSize(step: number, rank: number): number {
  return between(prng(`mixed/log-size/${step}/${rank}`), 16 * 1024, 64 * 1024);
}

function writeStep(root: string, step: number): void {
  const dir = join(root, stepName(step));
  const mtime = EPOCH + step * 3600;
  mkdirSync(dir, { recursive: true });
  writeRandomFile(join(dir, 'checkpoint.pt'), `mixed/${step}/checkpoint`, 50 * MiB, mtime);
  for (let k = 0; k < PER_KIND; k++) {
    const size = between(prng(`mixed/json-size/${step}/${k}`), 1024, 8 * 1024);
    writeTextFile(join(dir, `metrics-${two(k)}.json`), metricsJson(`mixed/${step}/metrics/${k}`, size), mtime + k);
    writeTextFile(join(dir, `rank-${two(k)}.log`), logLines(`mixed/${step}/rank/${k}`, 0, logSize(step, k)), mtime + k);
  }
}

const mixed: Layout = {
  name: 'mixed',
  writeV1(root) {
    for (let step = 1; step <= STEPS; step++) writeStep(root, step);
  },
  mutateToV2(root) {
    // The run went on: the last step's logs grew and a new step dir appeared.
    for (let k = 0; k < PER_KIND; k++) {
      const path = join(root, stepName(STEPS), `rank-${two(k)}.log`);
      const grown = logLines(`mixed/${STEPS}/rank/${k}`, 100_000, between(prng(`mixed/grow/${k}`), 4096, 16 * 1024));
      replaceFile(path, () => undefined, LATER + k, grown);
    }
    writeStep(root, STEPS + 1);
  },
};

// ---- million: 1,000,000 empty files in 1,000 dirs (on request) -------------------------------

const million: Layout = {
  name: 'million',
  writeV1(root) {
    for (let d = 0; d < 1000; d++) {
      const dir = join(root, `d${String(d).padStart(3, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 1000; f++) {
        const fd = openSync(join(dir, `f${String(f).padStart(3, '0')}`), 'wx');
        futimesSync(fd, EPOCH, EPOCH);
        closeSync(fd);
      }
    }
  },
};

export const LAYOUTS: ReadonlyMap<DatasetName, Layout> = new Map([big, small, mixed, small100, million].map((l) => [l.name, l]));

/**
 * Replaces `path` with a fresh inode holding its old bytes, changed by `edit` (and `append`), with
 * mtime `mtime`: v2 shares unchanged files with v1 by hard link, so nothing may be written in place.
 */
function replaceFile(path: string, edit: (fd: number) => void, mtime = LATER, append?: string): void {
  const temp = `${path}.v2tmp`;
  copyFileSync(path, temp);
  if (append !== undefined) appendFileSync(temp, append);
  const fd = openSync(temp, 'r+');
  try {
    edit(fd);
  } finally {
    closeSync(fd);
  }
  utimesSync(temp, mtime, mtime);
  renameSync(temp, path);
}
