/** Tar streams as a hostile server could write them: GNU headers with any name, size, type or checksum. */

export const TAR_MTIME = 1_700_000_000;

/** The two zero blocks that end an archive. */
export const END = Buffer.alloc(1024);

export interface Header {
  readonly name: string | Buffer;
  readonly size: number;
  readonly mtime?: number;
  readonly type?: string;
  readonly badChecksum?: boolean;
  /** A link's target (type '1' or '2'). */
  readonly linkName?: string;
}

/** One GNU-format header block, as a hostile server could write it. */
export function header({ name, size, mtime = TAR_MTIME, type = '0', badChecksum = false, linkName = '' }: Header): Buffer {
  const block = Buffer.alloc(512);
  Buffer.from(name).copy(block, 0, 0, 100);
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  if (size >= 8 ** 11) {
    block[124] = 0x80;
    block.writeUInt32BE(Math.floor(size / 2 ** 32), 128);
    block.writeUInt32BE(size % 2 ** 32, 132);
  } else {
    block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  }
  block.write(`${mtime.toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  block.write(type, 156, 'latin1');
  block.write(linkName, 157, 'utf8');
  block.write('ustar  \0', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${(badChecksum ? sum + 1 : sum).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

export function entry(name: string, content: Buffer, extra: Partial<Header> = {}): Buffer {
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header({ name, size: content.length, ...extra }), content, pad]);
}

