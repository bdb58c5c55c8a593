import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../../src/core/quantities.js';

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['100', 100],
    ['100b', 100],
    ['1K', 1024],
    ['1k', 1024],
    ['1.5M', 1.5 * 1024 ** 2],
    ['20MiB', 20 * 1024 ** 2],
    ['2GB', 2 * 1024 ** 3],
    ['1T', 1024 ** 4],
  ])('%s → %d bytes', (text, want) => expect(parseSize(text, '--max-size')).toBe(want));

  it.each(['', 'M', '-1', '1X', '1 MBs', '1e6'])('refuses %j with a usage error naming the flag', (text) => {
    expect(() => parseSize(text, '--max-size')).toThrow(expect.objectContaining({ kind: 'usage', message: expect.stringContaining('--max-size') }));
  });
});

describe('parseDuration', () => {
  it.each([
    ['30', 30],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86_400],
    ['1w', 604_800],
    ['0.5h', 1800],
  ])('%s → %d s', (text, want) => expect(parseDuration(text, '--min-age')).toBe(want));

  it.each(['', 'h', '-5m', '5y', '5 minutes'])('refuses %j with a usage error naming the flag', (text) => {
    expect(() => parseDuration(text, '--min-age')).toThrow(expect.objectContaining({ kind: 'usage', message: expect.stringContaining('--min-age') }));
  });
});
