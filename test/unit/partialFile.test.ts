import { closeSync, linkSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPartial } from '../../src/transfer/partialFile.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-partial-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(fd: number, text: string): void {
  writeSync(fd, text);
  closeSync(fd);
}

describe('openPartial: never written through a link', () => {
  it('a symlink planted at a fresh partial name is replaced, its target untouched', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, 'p1'));
    write(openPartial(join(dir, 'p1'), 'fresh'), 'data');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(join(dir, 'p1'), 'utf8')).toBe('data');
  });

  it('a hard link planted at a fresh partial name is unlinked, not written', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    linkSync(victim, join(dir, 'p2'));
    write(openPartial(join(dir, 'p2'), 'fresh'), 'data');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  it('a partial resumed is never opened through a symlink', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, 'b-1'));
    expect(() => openPartial(join(dir, 'b-1'), 'resume')).toThrow(expect.objectContaining({ code: 'ELOOP' }) as unknown as Error);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  it('a fresh partial left by a failed attempt starts empty', () => {
    writeFileSync(join(dir, 'p3'), 'old attempt, longer');
    write(openPartial(join(dir, 'p3'), 'fresh'), 'new');
    expect(readFileSync(join(dir, 'p3'), 'utf8')).toBe('new');
  });
});

describe('openPartial: permissions', () => {
  it('a fresh partial is made with the bits asked for, read-only ones written all the same; by default, and resumed, 0600', () => {
    const umask = process.umask();
    write(openPartial(join(dir, 'ro'), 'fresh', 0o444 & ~umask), 'data');
    expect(statSync(join(dir, 'ro')).mode & 0o777).toBe(0o444 & ~umask);
    expect(readFileSync(join(dir, 'ro'), 'utf8')).toBe('data');
    write(openPartial(join(dir, 'plain'), 'fresh'), 'data');
    expect(statSync(join(dir, 'plain')).mode & 0o777).toBe(0o600);
    write(openPartial(join(dir, 'block'), 'resume'), 'data');
    expect(statSync(join(dir, 'block')).mode & 0o777).toBe(0o600);
  });
});
