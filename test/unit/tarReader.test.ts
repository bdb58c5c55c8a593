import { execFileSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarReader, type WantedEntry } from '../../src/remote/tarReader.js';
import { TAR_COMMAND } from '../../src/transfer/tarFetch.js';
import { pseudoRandomBytes } from '../support/pseudoRandom.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import { END, entry, header } from '../support/tarStream.js';

const MTIME = 1_700_000_000;

/** What a sink saw: each file's bytes, and the order of begin/end calls. */
function collect(wanted: readonly WantedEntry[], stream: Buffer, chunk = stream.length) {
  const files = new Map<number, Buffer>();
  const calls: string[] = [];
  const reader = new TarReader(wanted, {
    begin: (i) => {
      calls.push(`begin ${i}`);
      files.set(i, Buffer.alloc(0));
    },
    data: (i, bytes, position) => {
      const had = files.get(i) ?? Buffer.alloc(0);
      expect(position).toBe(had.length);
      files.set(i, Buffer.concat([had, bytes]));
    },
    end: (i) => calls.push(`end ${i}`),
  });
  for (let at = 0; at < stream.length; at += chunk) if (!reader.push(stream.subarray(at, at + chunk))) break;
  return { report: reader.report(), files, calls };
}


/** `block` with one field rewritten and its checksum made right again: number fields as other tars write them. */
function withField(block: Buffer, offset: number, field: Buffer): Buffer {
  const out = Buffer.from(block);
  field.copy(out, offset);
  out.fill(0x20, 148, 156);
  const sum = out.reduce((total, byte) => total + byte, 0);
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

function wanted(name: string, content: Buffer, mtime = MTIME): WantedEntry {
  return { name: Buffer.from(name), size: content.length, mtime };
}

describe('TarReader', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const dir of made) await removeTempDir(dir);
  });

  it("reads GNU tar's own answer to gsync's command: long names, empty files, any chunking", async () => {
    const dir = await makeTempDir('tar-reader-');
    made.push(dir);
    const long = `${'deep/'.repeat(30)}file.txt`;
    const contents = new Map<string, Buffer>([
      ['a.txt', pseudoRandomBytes('a', 5000)],
      ['empty', Buffer.alloc(0)],
      [long, pseudoRandomBytes('long', 1536)],
    ]);
    const names: string[] = [];
    for (const [rel, content] of contents) {
      const path = join(dir, rel);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, content);
      utimesSync(path, MTIME, MTIME);
      names.push(path);
    }
    const stream = execFileSync('sh', ['-c', TAR_COMMAND], { input: `${names.join('\0')}\0`, maxBuffer: 1 << 26 });
    const want = names.map((path, i) => wanted(path, [...contents.values()][i] as Buffer));
    for (const chunk of [stream.length, 1, 7, 511, 513]) {
      const { report, files } = collect(want, stream, chunk);
      expect(report).toEqual({ complete: [0, 1, 2], broken: undefined, ended: true });
      [...contents.values()].forEach((content, i) => expect(files.get(i)?.equals(content)).toBe(true));
    }
  });

  it('refuses a name it did not ask for, and never hands its bytes on', () => {
    const good = pseudoRandomBytes('good', 700);
    const stream = Buffer.concat([entry('../../etc/cron.d/evil', Buffer.from('* * * * * root sh\n')), entry('/srv/a', good), END]);
    const { report, files } = collect([wanted('/srv/a', good)], stream);
    expect(report.broken).toMatch(/not asked for/);
    expect(report.complete).toEqual([]);
    expect(files.size).toBe(0);
  });

  it('refuses anything but a regular file under a wanted name: symlinks, hard links, directories, pax headers', () => {
    for (const type of ['2', '1', '5', 'x', 'g', 'K', 'S']) {
      const stream = Buffer.concat([header({ name: '/srv/a', size: 0, type }), END]);
      const { report, calls } = collect([wanted('/srv/a', Buffer.alloc(0))], stream);
      expect(report.broken, type).toMatch(/not a regular file/);
      expect(calls).toEqual([]);
    }
  });

  it('skips a file that changed since the listing, and goes on with the next', () => {
    const changed = pseudoRandomBytes('changed', 3000);
    const next = pseudoRandomBytes('next', 100);
    const stream = Buffer.concat([entry('/srv/a', changed), entry('/srv/b', next), END]);
    const { report, files } = collect([wanted('/srv/a', changed.subarray(0, 2000)), wanted('/srv/b', next)], stream, 100);
    expect(report).toEqual({ complete: [1], broken: undefined, ended: true });
    expect(files.has(0)).toBe(false);
    expect(files.get(1)?.equals(next)).toBe(true);
  });

  it('also skips one whose mtime moved, even with the same size', () => {
    const content = pseudoRandomBytes('touched', 10);
    const { report } = collect([wanted('/srv/a', content, MTIME - 1)], Buffer.concat([entry('/srv/a', content), END]));
    expect(report.complete).toEqual([]);
    expect(report.broken).toBeUndefined();
  });

  it('reads a size written with leading spaces, a space for its end, or in base-256, and refuses one that is no number', () => {
    const content = pseudoRandomBytes('sized', 700);
    const body = Buffer.concat([content, Buffer.alloc(1024 - content.length)]);
    const base = header({ name: '/srv/a', size: content.length });
    const base256 = Buffer.alloc(12);
    base256[0] = 0x80;
    base256.writeUInt32BE(content.length, 8);
    for (const field of [Buffer.from('   00001274\0', 'latin1'), Buffer.from('00000001274 ', 'latin1'), Buffer.from('1274\0       ', 'latin1'), base256]) {
      const { report, files } = collect([wanted('/srv/a', content)], Buffer.concat([withField(base, 124, field), body, END]));
      expect(report, field.toString('latin1')).toEqual({ complete: [0], broken: undefined, ended: true });
      expect(files.get(0)?.equals(content)).toBe(true);
    }
    for (const field of ['0000000127x\0', '000012 74\0  ', '\0\0\0\0\0\0\0\0\0\0\0\0', '0000001274 7', '00000001278\0']) {
      const { report, calls } = collect([wanted('/srv/a', content)], Buffer.concat([withField(base, 124, Buffer.from(field, 'latin1')), body, END]));
      expect(report.broken, JSON.stringify(field)).toMatch(/no readable size/);
      expect(calls).toEqual([]);
    }
  });

  it('gives up on an absurd size instead of reading through it', () => {
    const stream = Buffer.concat([header({ name: '/srv/a', size: 2 ** 40 }), Buffer.alloc(4096)]);
    const { report, calls } = collect([wanted('/srv/a', Buffer.alloc(10))], stream);
    expect(report.broken).toMatch(/too big/);
    expect(calls).toEqual([]);
  });

  it('gives up on a header that fails its checksum, or a long name too long for any path', () => {
    const bad = collect([wanted('/srv/a', Buffer.alloc(0))], Buffer.concat([header({ name: '/srv/a', size: 0, badChecksum: true }), END]));
    expect(bad.report.broken).toMatch(/checksum/);
    const huge = collect([wanted('/srv/a', Buffer.alloc(0))], Buffer.concat([header({ name: '././@LongLink', size: 1 << 20, type: 'L' }), Buffer.alloc(1 << 20)]));
    expect(huge.report.broken).toMatch(/long name/);
  });

  it('keeps to the order asked: a file tar skipped (vanished) is missing, one named again is refused', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => pseudoRandomBytes(n, 600)) as [Buffer, Buffer, Buffer];
    const want = [wanted('/srv/a', a), wanted('/srv/b', b), wanted('/srv/c', c)];
    const skipped = collect(want, Buffer.concat([entry('/srv/a', a), entry('/srv/c', c), END]));
    expect(skipped.report).toEqual({ complete: [0, 2], broken: undefined, ended: true });
    const again = collect(want, Buffer.concat([entry('/srv/b', b), entry('/srv/a', a), END]));
    expect(again.report.complete).toEqual([1]);
    expect(again.report.broken).toMatch(/out of order/);
  });

  it('a stream cut short completes nothing it had not finished and is not ended', () => {
    const a = pseudoRandomBytes('a', 2000);
    const stream = entry('/srv/a', a).subarray(0, 1200);
    const { report, calls } = collect([wanted('/srv/a', a)], stream);
    expect(report).toEqual({ complete: [], broken: undefined, ended: false });
    expect(calls).toEqual(['begin 0']);
  });
});
