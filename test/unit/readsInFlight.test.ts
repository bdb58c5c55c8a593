import { describe, expect, it } from 'vitest';
import { readsInFlight } from '../../src/remote/readLoop.js';

const CHUNK = 255 * 1024;

describe('readsInFlight', () => {
  it('asks 16 ahead on a short link, where more only piles up in memory', () => {
    expect(readsInFlight(0, CHUNK)).toBe(16);
    expect(readsInFlight(0.3, CHUNK)).toBe(16);
    expect(readsInFlight(-1, CHUNK)).toBe(16);
  });

  it('asks more as the round trip grows, so the link stays full', () => {
    const at20 = readsInFlight(20, CHUNK);
    expect(at20).toBeGreaterThan(16);
    // 320 MiB/s × 20 ms = 6.4 MiB: that many 255 KiB READs, rounded up.
    expect(at20).toBe(Math.ceil((320 * 1024 * 1024 * 0.02) / CHUNK));
    expect(readsInFlight(40, CHUNK)).toBeGreaterThan(at20);
  });

  it('never asks more than 64 ahead, however long the link', () => {
    expect(readsInFlight(100, CHUNK)).toBe(64);
    expect(readsInFlight(10_000, CHUNK)).toBe(64);
  });

  it('counts READs of a smaller chunk (a server offering less) against the same bytes', () => {
    expect(readsInFlight(20, 32 * 1024)).toBe(64);
  });
});
