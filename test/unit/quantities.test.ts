import { describe, expect, it } from 'vitest';
import { parseDuration, parseRate, parseSize } from '../../src/core/quantities.js';

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['100', 100],
    ['100b', 100],
    ['1K', 1024],
    ['1k', 1024],
    ['1.5M', 1.5 * 1024 ** 2],
    ['20MiB', 20 * 1024 ** 2],
    ['2GB', 2_000_000_000],
    ['2GiB', 2 * 1024 ** 3],
    ['3kb', 3000],
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

describe('parseRate: --bwlimit as rsync reads it, in bytes per second', () => {
  const KiB = 1024;
  const MiB = 1024 * KiB;
  it.each([
    { description: 'a plain number is KiB/s', text: '500', want: 500 * KiB },
    { description: 'a fraction without a suffix is KiB/s too', text: '2.5', want: 2.5 * KiB },
    { description: 'K is 1024', text: '500K', want: 500 * KiB },
    { description: 'M is 1024²', text: '20M', want: 20 * MiB },
    { description: 'G is 1024³, fractions allowed', text: '1.5G', want: 1.5 * 1024 ** 3 },
    { description: 'lower case', text: '20m', want: 20 * MiB },
    { description: 'KiB spelled out', text: '64KiB', want: 64 * KiB },
    { description: 'MB is powers of 1000, as rsync and parseSize read it', text: '20MB', want: 20_000_000 },
    { description: 'T is 1024⁴', text: '1T', want: 1024 ** 4 },
    { description: 'B is bytes', text: '4096B', want: 4096 },
    { description: 'blanks around and before the unit', text: ' 20 M ', want: 20 * MiB },
    { description: '0 means no limit', text: '0', want: 0 },
    { description: '0 with a unit means no limit too', text: '0M', want: 0 },
    { description: 'the floor, 1 KiB/s', text: '1', want: KiB },
    { description: 'a fraction of a byte is rounded', text: '1.0001K', want: KiB },
  ])('$description: $text → $want', ({ text, want }) => expect(parseRate(text, '--bwlimit')).toBe(want));

  it.each([
    { description: 'an empty value', text: '' },
    { description: 'an unknown suffix', text: '20X' },
    { description: 'a rate per second spelled out', text: '20M/s' },
    { description: 'a negative rate', text: '-5M' },
    { description: 'a suffix alone', text: 'M' },
    { description: 'an exponent', text: '1e6' },
    { description: 'a hex number', text: '0x100' },
    { description: 'bits', text: '8Mbit' },
    { description: 'under 1 KiB/s', text: '512B' },
    { description: 'a fraction of a KiB/s', text: '0.5' },
    { description: 'a rate that rounds to nothing (not "no limit")', text: '0.0001' },
    { description: 'beyond any real link', text: '99999999999T' },
  ])('refuses $description ($text) with a usage error that names the flag and says what would work', ({ text }) => {
    expect(() => parseRate(text, '--bwlimit')).toThrow(
      expect.objectContaining({ kind: 'usage', exitCode: 1, message: expect.stringContaining(`--bwlimit ${text.trim() || '(empty)'}`), hint: expect.stringMatching(/500K, 20M or 1\.5G/) }),
    );
  });
});

describe('parseRate: what a refusal asks for', () => {
  it('a rate too small asks for at least 1K; one too large says where the top is', () => {
    expect(() => parseRate('0.0001', '--bwlimit')).toThrow(expect.objectContaining({ message: expect.stringMatching(/, of at least 1K$/) }));
    expect(() => parseRate('99999999999T', '--bwlimit')).toThrow(expect.objectContaining({ message: expect.stringMatching(/, under 8P \(no link is faster\)$/) }));
  });
});
