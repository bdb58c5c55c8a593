/**
 * Reads a tar stream that should hold exactly the files asked for, in the order asked: GNU tar's
 * answer to `tar -c --format=gnu -P --no-recursion --null -T -`. The stream comes from the server
 * and is trusted for nothing: a name is only ever compared with the one we asked for (never used
 * as a path), a size never exceeds what we are ready to skip, and anything but a regular file or
 * a GNU long name breaks the stream. Pure: bytes in, calls on a sink out.
 */

/** A file we asked for: its name as sent (bytes), and the version the listing saw. */
export interface WantedEntry {
  readonly name: Buffer;
  readonly size: number;
  readonly mtime: number;
}

/** Where the bytes of a wanted file go; `index` is its place in the wanted list. */
export interface TarSink {
  begin(index: number): void;
  /** `bytes` is only valid during the call; `position` is its offset in the file. */
  data(index: number, bytes: Buffer, position: number): void;
  end(index: number): void;
}

/** What became of each wanted file, once the stream is over. */
export interface TarReport {
  /** Indexes whose bytes all arrived, matching the listing's size and mtime. */
  readonly complete: readonly number[];
  /** Why the stream was given up on, if it was: nothing after that point was read. */
  readonly broken: string | undefined;
  /** The end-of-archive blocks arrived. */
  readonly ended: boolean;
}

const BLOCK = 512;
const EMPTY = Buffer.alloc(0);
/** A GNU long name longer than this is not a path any system has. */
const MAX_LONG_NAME = 64 * 1024;
/** A file that changed since the listing is skipped (read through) up to this size; bigger breaks the stream. */
const MAX_SKIP = 64 * 1024 * 1024;

type State =
  | { readonly kind: 'header' }
  | { readonly kind: 'long-name'; readonly size: number; readonly parts: Buffer[]; got: number }
  | { readonly kind: 'file'; readonly index: number; readonly size: number; got: number }
  | { readonly kind: 'skip'; left: number }
  | { readonly kind: 'ended' }
  | { readonly kind: 'broken' };

/** Shared: the reader returns to it after every file. */
const AT_HEADER: State = { kind: 'header' };

export class TarReader {
  readonly #wanted: readonly WantedEntry[];
  readonly #sink: TarSink;
  #state: State = AT_HEADER;
  /** The next wanted index a header may name (tar skips a file it cannot read; it never goes back). */
  #next = 0;
  #longName: Buffer | undefined;
  #pending: Buffer = EMPTY;
  readonly #complete: number[] = [];
  #broken: string | undefined;

  constructor(wanted: readonly WantedEntry[], sink: TarSink) {
    this.#wanted = wanted;
    this.#sink = sink;
  }

  get broken(): string | undefined {
    return this.#broken;
  }

  report(): TarReport {
    return { complete: [...this.#complete], broken: this.#broken, ended: this.#state.kind === 'ended' };
  }

  /** Feeds the next bytes of the stream. Returns false once the stream is broken: stop reading. */
  push(chunk: Buffer): boolean {
    const input = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = EMPTY;
    // An offset into the input, not a view per step: a view costs an object, and a header three steps.
    let at = 0;
    while (at < input.length) {
      const state = this.#state;
      const left = input.length - at;
      if (state.kind === 'broken') return false;
      if (state.kind === 'ended') return true; // the zero blocks tar pads its last record with
      if (state.kind === 'header') {
        if (left < BLOCK) {
          this.#pending = Buffer.from(input.subarray(at));
          return true;
        }
        this.#header(input.subarray(at, at + BLOCK));
        at += BLOCK;
        continue;
      }
      if (state.kind === 'skip') {
        const take = Math.min(state.left, left);
        state.left -= take;
        at += take;
        if (state.left === 0) this.#state = AT_HEADER;
        continue;
      }
      const padded = paddedSize(state.size);
      const take = Math.min(padded - state.got, left);
      const useful = Math.max(0, Math.min(take, state.size - state.got));
      if (state.kind === 'long-name') {
        if (useful > 0) state.parts.push(Buffer.from(input.subarray(at, at + useful)));
      } else if (useful > 0) {
        this.#sink.data(state.index, input.subarray(at, at + useful), state.got);
      }
      state.got += take;
      at += take;
      if (state.got < padded) continue;
      if (state.kind === 'long-name') {
        const name = Buffer.concat(state.parts);
        const nul = name.indexOf(0);
        this.#longName = nul === -1 ? name : name.subarray(0, nul);
      } else {
        this.#sink.end(state.index);
        this.#complete.push(state.index);
      }
      this.#state = AT_HEADER;
    }
    return this.#state.kind !== 'broken';
  }

  #header(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.#state = this.#longName === undefined ? { kind: 'ended' } : this.#break('the stream ended after a long name');
      return;
    }
    if (!checksumHolds(block)) return void (this.#state = this.#break('a header failed its checksum'));
    const type = String.fromCharCode(block[156] ?? 0);
    const size = numberField(block, 124, 12);
    if (size === undefined) return void (this.#state = this.#break('a header has no readable size'));
    if (type === 'L') {
      if (this.#longName !== undefined || size === 0 || size > MAX_LONG_NAME) return void (this.#state = this.#break('a long name is malformed'));
      this.#state = { kind: 'long-name', size, parts: [], got: 0 };
      return;
    }
    if (type !== '0' && type !== '\0') return void (this.#state = this.#break(`an entry is not a regular file (type ${JSON.stringify(type)})`));
    const name = this.#longName ?? cString(block, 0, 100);
    this.#longName = undefined;
    const index = this.#indexOf(name);
    if (index === undefined) return void (this.#state = this.#break('an entry names a file that was not asked for, or out of order'));
    this.#next = index + 1;
    const mtime = numberField(block, 136, 12);
    const wanted = this.#wanted[index] as WantedEntry;
    if (size !== wanted.size || mtime !== wanted.mtime) {
      // Changed since it was listed: not this copy's to keep, and SFTP will say how it changed.
      if (size > MAX_SKIP) return void (this.#state = this.#break('a changed entry is too big to skip'));
      this.#state = size === 0 ? AT_HEADER : { kind: 'skip', left: paddedSize(size) };
      return;
    }
    this.#sink.begin(index);
    if (size === 0) {
      this.#sink.end(index);
      this.#complete.push(index);
      return;
    }
    this.#state = { kind: 'file', index, size, got: 0 };
  }

  #indexOf(name: Buffer): number | undefined {
    for (let i = this.#next; i < this.#wanted.length; i++) if ((this.#wanted[i] as WantedEntry).name.equals(name)) return i;
    return undefined;
  }

  #break(reason: string): State {
    this.#broken ??= reason;
    return { kind: 'broken' };
  }
}

function paddedSize(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** The header's checksum: its bytes summed with the checksum field read as spaces. */
function checksumHolds(block: Buffer): boolean {
  const stored = numberField(block, 148, 8);
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i] as number;
  for (let i = 156; i < BLOCK; i++) sum += block[i] as number;
  return stored === sum;
}

const SPACE = 0x20;
const DIGIT_0 = 0x30;

/**
 * An octal field (leading spaces, then digits, then NUL- or space-terminated), or GNU's base-256
 * for big numbers; undefined if neither. Read byte by byte: it runs three times a header.
 */
function numberField(block: Buffer, offset: number, length: number): number | undefined {
  const end = offset + length;
  const first = block[offset] as number;
  if ((first & 0x80) !== 0) {
    // Base-256, big-endian, the first byte's top bit the marker; a negative value has no use here.
    if ((first & 0x40) !== 0) return undefined;
    let value = first & 0x3f;
    for (let i = offset + 1; i < end; i++) {
      value = value * 256 + (block[i] as number);
      if (!Number.isSafeInteger(value)) return undefined;
    }
    return value;
  }
  let i = offset;
  while (i < end && block[i] === SPACE) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const digit = (block[i] as number) - DIGIT_0;
    if (digit < 0 || digit > 7) break;
    value = value * 8 + digit;
  }
  // What follows the digits may only be the terminator: NULs and spaces to the field's end.
  for (; i < end; i++) if (block[i] !== 0 && block[i] !== SPACE) return undefined;
  return digits > 0 && Number.isSafeInteger(value) ? value : undefined;
}

/** The name field up to its NUL: a view, compared at once, never kept. */
function cString(block: Buffer, offset: number, length: number): Buffer {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}
