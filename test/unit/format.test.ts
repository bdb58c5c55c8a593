import { describe, expect, it } from 'vitest';
import { formatBytes, plural } from '../../src/core/format.js';
import { printable } from '../../src/core/printable.js';

/** C0 controls, DEL and C1 controls: anything a terminal may act on. */
function hasControlCharacter(text: string): boolean {
  return [...text].some((c) => {
    const code = c.charCodeAt(0);
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });
}

describe('formatBytes: binary units', () => {
  const rows: Array<{ description: string; bytes: number; want: string }> = [
    { description: 'zero', bytes: 0, want: '0 B' },
    { description: 'one byte', bytes: 1, want: '1 B' },
    { description: 'just under 1 KiB stays in bytes', bytes: 1023, want: '1023 B' },
    { description: 'exactly 1 KiB', bytes: 1024, want: '1.0 KiB' },
    { description: '1536 is 1.5 KiB', bytes: 1536, want: '1.5 KiB' },
    { description: 'exactly 1 MiB', bytes: 1024 ** 2, want: '1.0 MiB' },
    { description: '2.5 GiB', bytes: 2.5 * 1024 ** 3, want: '2.5 GiB' },
    { description: 'exactly 1 TiB', bytes: 1024 ** 4, want: '1.0 TiB' },
    { description: 'TiB is the largest unit', bytes: 2048 * 1024 ** 4, want: '2048.0 TiB' },
    // 1 MiB - 1 byte is 1023.999 KiB: rounding to one decimal must not print "1024.0 KiB".
    { description: 'a value that rounds up to the next unit is shown in that unit', bytes: 1024 ** 2 - 1, want: '1.0 MiB' },
  ];
  it.each(rows)('$description: $bytes → $want', ({ bytes, want }) => {
    expect(formatBytes(bytes)).toBe(want);
  });
});

describe('plural', () => {
  const rows: Array<{ description: string; n: number; word: string; want: string }> = [
    { description: 'zero takes the plural', n: 0, word: 'file', want: '0 files' },
    { description: 'one takes the singular', n: 1, word: 'file', want: '1 file' },
    { description: 'two takes the plural', n: 2, word: 'file', want: '2 files' },
    { description: 'many take the plural', n: 1000, word: 'directory error', want: '1000 directory errors' },
  ];
  it.each(rows)('$description', ({ n, word, want }) => {
    expect(plural(n, word)).toBe(want);
  });
});

describe('printable: server-controlled text reaches the terminal escaped and capped', () => {
  const rows: Array<{ description: string; text: string; max?: number; want: string }> = [
    { description: 'plain text is unchanged', text: 'runs/exp1/model.pt', want: 'runs/exp1/model.pt' },
    { description: 'non-ASCII letters are kept', text: 'Übung ü 日本', want: 'Übung ü 日本' },
    { description: 'an ANSI colour sequence is escaped', text: '\u001b[31mred', want: '\\u001b[31mred' },
    { description: 'a cursor movement sequence is escaped', text: 'a\u001b[2Ab', want: 'a\\u001b[2Ab' },
    { description: 'an OSC title sequence is escaped', text: '\u001b]0;title\u0007', want: '\\u001b]0;title\\u0007' },
    { description: 'newline is escaped', text: 'a\nb', want: 'a\\nb' },
    { description: 'carriage return is escaped', text: 'fake\rreal', want: 'fake\\rreal' },
    { description: 'tab is escaped', text: 'a\tb', want: 'a\\tb' },
    { description: 'backspace is escaped', text: 'a\bb', want: 'a\\bb' },
    { description: 'NUL is escaped', text: 'a\u0000b', want: 'a\\u0000b' },
    { description: 'DEL is escaped', text: 'a\u007fb', want: 'a\\u007fb' },
    { description: 'the 8-bit CSI (C1) is escaped', text: 'a\u009b2Jb', want: 'a\\u009b2Jb' },
    { description: 'a quote is kept as it is', text: 'ls -la "/data"', want: 'ls -la "/data"' },
    { description: 'a backslash is escaped, also before a quote', text: 'a\\"b\\', want: 'a\\\\"b\\\\' },
    { description: 'text at exactly the cap is not cut', text: 'x'.repeat(300), want: 'x'.repeat(300) },
    { description: 'text over the default cap of 300 is cut with …', text: 'x'.repeat(301), want: `${'x'.repeat(300)}…` },
    { description: 'a custom cap', text: 'abcdefgh', max: 3, want: 'abc…' },
    { description: 'the cap counts escaped characters', text: '\n\n\n', max: 4, want: '\\n\\n…' },
  ];
  it.each(rows)('$description', ({ text, max, want }) => {
    expect(max === undefined ? printable(text) : printable(text, max)).toBe(want);
  });

  it('never passes any control character through, alone or among text', () => {
    for (let code = 0; code <= 0x9f; code++) {
      const c = String.fromCharCode(code);
      const out = printable(`a${c}b`);
      expect(hasControlCharacter(out), `U+${code.toString(16).padStart(4, '0')}`).toBe(false);
      if (hasControlCharacter(c)) expect(out.length, `U+${code.toString(16)}`).toBeGreaterThan(3);
    }
  });

  it('never exceeds the cap plus the ellipsis, whatever the input', () => {
    const text = '\u001b[31m'.repeat(200);
    for (const max of [1, 5, 6, 7, 50, 300]) {
      const out = printable(text, max);
      expect(out.length).toBeLessThanOrEqual(max + 1);
      expect(out.endsWith('…')).toBe(true);
      expect(hasControlCharacter(out)).toBe(false);
    }
  });
});
