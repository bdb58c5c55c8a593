import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unsafeNameReason } from '../../src/core/names.js';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { Destination } from '../../src/local/paths.js';

const root = '/srv/mirror';
const destination = new Destination(root);

describe('Destination.pathOf: the one path builder', () => {
  const safe: Array<{ description: string; path: string; want: string }> = [
    { description: 'the root itself', path: '', want: root },
    { description: 'a top-level file', path: 'a.txt', want: join(root, 'a.txt') },
    { description: 'a nested path', path: 'a/b/c.bin', want: join(root, 'a/b/c.bin') },
    { description: 'a name with spaces and non-ASCII', path: 'logs/train log ü.txt', want: join(root, 'logs/train log ü.txt') },
    { description: 'fullwidth dots are an ordinary name', path: '．．/x', want: join(root, '．．/x') },
    { description: 'a name that starts with dots', path: '...hidden', want: join(root, '...hidden') },
    { description: '.gsync below the root is an ordinary name', path: 'sub/.gsync', want: join(root, 'sub/.gsync') },
  ];
  it.each(safe)('accepts $description', ({ path, want }) => {
    expect(destination.pathOf(path)).toBe(want);
  });

  const unsafe: Array<{ description: string; path: string }> = [
    { description: 'a parent reference', path: '..' },
    { description: 'a parent reference inside', path: 'a/../../etc/passwd' },
    { description: 'a trailing parent reference', path: 'a/..' },
    { description: 'an absolute path', path: '/etc/passwd' },
    { description: 'an empty component', path: 'a//b' },
    { description: 'a trailing slash', path: 'a/' },
    { description: 'a dot component', path: './a' },
    { description: 'a NUL byte', path: 'a\0b' },
    { description: 'invalid UTF-8 (replacement character)', path: 'bad\uFFFDname' },
    { description: 'an over-long name', path: 'x'.repeat(256) },
    { description: "gsync's own directory at the root", path: '.gsync/state.db' },
    { description: "gsync's own directory itself", path: '.gsync' },
  ];
  it.each(unsafe)('rejects $description', ({ path }) => {
    expect(() => destination.pathOf(path)).toThrow(GsyncError);
  });

  it('never returns a path outside the root, whatever the components', () => {
    const parts = ['a', '..', '.', '', '/', 'b', '．．', '\0', '.gsync'];
    for (const x of parts) {
      for (const y of parts) {
        for (const z of parts) {
          const path = [x, y, z].join('/');
          let built: string | undefined;
          try {
            built = destination.pathOf(path);
          } catch (error) {
            expect(error).toBeInstanceOf(GsyncError);
            continue;
          }
          expect(built.startsWith(`${root}/`), path).toBe(true);
          expect(built.split('/')).not.toContain('..');
        }
      }
    }
  });

  it('builds the same path as path.join from a root given as / or not normalized', () => {
    for (const given of ['/', '/srv/mirror/', '/srv/./mirror', '/srv/x/../mirror']) {
      const built = new Destination(given);
      expect(built.pathOf('a/b.txt'), given).toBe(join(given, 'a/b.txt'));
      expect(built.pathOf('a/b.txt').startsWith(join(given, '/')), given).toBe(true);
    }
  });
});

describe('unsafeNameReason: one remote name', () => {
  const rows: Array<{ name: string; unsafe: boolean }> = [
    { name: 'ok.txt', unsafe: false },
    { name: '', unsafe: true },
    { name: '.', unsafe: true },
    { name: '..', unsafe: true },
    { name: 'a/b', unsafe: true },
    { name: '/', unsafe: true },
    { name: 'nul\0', unsafe: true },
    { name: 'ü'.repeat(128), unsafe: true }, // 256 bytes in UTF-8
    { name: 'ü'.repeat(127), unsafe: false },
    { name: '..hidden', unsafe: false },
    { name: '\u001b[31mred', unsafe: false }, // legal on disk; escaped when printed
  ];
  it.each(rows)('$name → unsafe: $unsafe', ({ name, unsafe }) => {
    expect(unsafeNameReason(name) !== undefined).toBe(unsafe);
  });
});
