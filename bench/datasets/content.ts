import { createHash } from 'node:crypto';
import { closeSync, futimesSync, openSync, writeSync } from 'node:fs';
import { pseudoRandomChunks } from '../../test/support/pseudoRandom.js';

/** Every dataset's clock starts here (2026-01-01T00:00:00Z), so mtimes are the same on every machine. */
export const EPOCH = Date.UTC(2026, 0, 1) / 1000;

/** A small deterministic PRNG (mulberry32) for sizes and text: same seed, same sequence. */
export function prng(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [low, high], from `next`. */
export function between(next: () => number, low: number, high: number): number {
  return low + Math.floor(next() * (high - low + 1));
}

/** Writes `size` incompressible bytes (AES-CTR keystream of `seed`) to a new file with mtime `mtime`. */
export function writeRandomFile(path: string, seed: string, size: number, mtime: number): void {
  const fd = openSync(path, 'wx');
  try {
    for (const chunk of pseudoRandomChunks(seed, size)) writeSync(fd, chunk);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

/** Writes `text` to a new file with mtime `mtime`. */
export function writeTextFile(path: string, text: string, mtime: number): void {
  const fd = openSync(path, 'wx');
  try {
    writeSync(fd, text);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

/** A metrics JSON document of roughly `size` bytes, like a trainer's eval dump. */
export function metricsJson(seed: string, size: number): string {
  const next = prng(seed);
  const series: Record<string, number[]> = {};
  let length = 2;
  for (let i = 0; length < size; i++) {
    const values = Array.from({ length: 16 }, () => Math.round(next() * 1e6) / 1e6);
    series[`metric_${i}`] = values;
    length += JSON.stringify(values).length + 14;
  }
  return `${JSON.stringify(series)}\n`;
}

/** Log lines totalling roughly `size` bytes, starting at `firstLine` (so a grown log extends the old one). */
export function logLines(seed: string, firstLine: number, size: number): string {
  const next = prng(`${seed}:${firstLine}`);
  const lines: string[] = [];
  let length = 0;
  for (let n = firstLine; length < size; n++) {
    const time = new Date((EPOCH + n) * 1000).toISOString();
    const line = `${time} step=${n} loss=${(next() * 4).toFixed(5)} lr=${(next() * 1e-3).toExponential(3)} tok/s=${between(next, 9000, 99000)}\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('');
}
