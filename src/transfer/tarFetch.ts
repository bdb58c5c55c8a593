import { closeSync, futimesSync, unlinkSync, writeSync } from 'node:fs';
import type { ClientChannel } from 'ssh2';
import { TarReader, type TarSink, type WantedEntry } from '../remote/tarReader.js';
import type { Session } from '../ssh/connect.js';
import { openPartial } from './partialFile.js';
import type { FileResult, FileTask } from './protocol.js';

/**
 * The one command the fast path runs, always this string: the names travel on its stdin,
 * NUL-separated, so no shell ever parses one, and tar takes each as a name, never as an option
 * (--verbatim-files-from) nor unquotes it (--no-unquote). -P keeps each name as sent (the reader
 * compares, byte for byte); --no-recursion keeps a name that became a directory from pulling in a
 * tree; --hard-dereference sends a second name of the same inode as a file, not as a link. A tar
 * without these options (GNU tar before 1.29, busybox) fails, and SFTP does the work.
 */
export const TAR_COMMAND = 'tar -c -f - --format=gnu -P --no-recursion --hard-dereference --no-unquote --verbatim-files-from --null -T -';

/**
 * A big task's files go over two exec channels at once: each costs a process start on the server
 * (~10 ms here), hidden behind the other channel's bytes. A smaller one is not worth a second.
 */
const CHANNELS_AT_ONCE = 2;
const SPLIT_FROM = 512;

/**
 * Copies small files into their partials through `tar` on the server: one stream for many files
 * instead of an OPEN, READ, FSTAT and CLOSE each. Only what the whole stream vouches for counts:
 * a file is fetched when its bytes match the listing's size and mtime and tar exited 0 (it had
 * no trouble reading any file, and none changed while read). Everything else comes back
 * unfetched, its partial removed, for SFTP to copy or explain; nothing here is an error.
 */
export async function fetchByTar(session: Session, files: readonly FileTask[], onData: (bytes: number) => void): Promise<TarFetched> {
  const size = files.length < SPLIT_FROM ? files.length : Math.ceil(files.length / CHANNELS_AT_ONCE);
  const parts = Array.from({ length: Math.ceil(files.length / size) }, (_, i) => files.slice(i * size, (i + 1) * size));
  const done = await Promise.all(parts.map((part) => fetchPart(session, part, onData)));
  return { files: done.flatMap((d) => d.files), usable: done.some((d) => d.usable) };
}

/**
 * `usable`: a whole, well-formed archive came back, so this server's tar answers as expected,
 * whatever became of these files (one unreadable makes tar exit 2, and its batch goes by SFTP).
 */
export interface TarFetched {
  readonly files: FileResult[];
  readonly usable: boolean;
}

async function fetchPart(session: Session, files: readonly FileTask[], onData: (bytes: number) => void): Promise<TarFetched> {
  const wanted: WantedEntry[] = files.map((f) => ({ name: Buffer.from(f.remotePath, 'utf8'), size: f.size, mtime: f.mtime }));
  const open = new Map<number, number>();
  const begun: number[] = [];
  const sink: TarSink = {
    begin: (index) => {
      begun.push(index);
      const file = taskAt(files, index);
      open.set(index, openPartial(file.partialPath, 'fresh', file.mode));
    },
    data: (index, bytes, position) => {
      writeSync(open.get(index) as number, bytes, 0, bytes.length, position);
      onData(bytes.length);
    },
    end: (index) => {
      const file = taskAt(files, index);
      const fd = open.get(index) as number;
      open.delete(index);
      try {
        futimesSync(fd, file.mtime, file.mtime);
      } finally {
        closeSync(fd);
      }
    },
  };
  const reader = new TarReader(wanted, sink);
  let exitCode: number | undefined;
  let localError = false;
  try {
    const channel = await session.exec(TAR_COMMAND);
    exitCode = await drain(channel, wanted, (chunk) => {
      try {
        return reader.push(chunk);
      } catch {
        // The local disk refused: SFTP will meet the same refusal and name it.
        localError = true;
        return false;
      }
    });
  } catch {
    // No exec here (refused, or the link went): SFTP copies them.
  }
  for (const fd of open.values()) closeSync(fd);
  const report = reader.report();
  const vouched = exitCode === 0 && report.ended && report.broken === undefined && !localError;
  const fetched = new Set(vouched ? report.complete : []);
  for (const index of begun) if (!fetched.has(index)) unlinkQuietly(taskAt(files, index).partialPath);
  return {
    files: [...fetched].map((index) => {
      const file = taskAt(files, index);
      return { kind: 'fetched', path: file.path, bytes: file.size };
    }),
    usable: report.ended && report.broken === undefined && !localError,
  };
}

/** Sends the names, feeds stdout to `push` until it says stop, and resolves with tar's exit code (undefined: none came). */
function drain(channel: ClientChannel, wanted: readonly WantedEntry[], push: (chunk: Buffer) => boolean): Promise<number | undefined> {
  return new Promise((resolve) => {
    let code: number | undefined;
    channel.on('exit', (exit: number | null) => (code = exit ?? undefined));
    channel.on('data', (chunk: Buffer) => {
      if (!push(chunk)) {
        code = undefined;
        channel.close();
      }
    });
    // What tar says of the files it could not read is not shown: SFTP will say it in our words.
    channel.stderr.resume();
    channel.on('error', () => undefined);
    channel.on('close', () => resolve(code));
    channel.end(Buffer.concat(wanted.flatMap((w) => [w.name, NUL])));
  });
}

const NUL = Buffer.from([0]);

function taskAt(files: readonly FileTask[], index: number): FileTask {
  return files[index] as FileTask;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}
