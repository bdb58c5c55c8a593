import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * The shell that runs `sync -f` on request, one path per line, answering `ok` or `failed` per
 * line in order. Its loop ends when gsync exits and its stdin closes.
 */
const SERVER_SCRIPT = 'while IFS= read -r p; do if sync -f -- "$p"; then echo ok; else echo failed; fi; done';

/**
 * syncfs(2) for Node, which has none: coreutils' `sync -f`, run by one long-lived shell. Spawning
 * it from Node forks all of gsync (a few hundred MiB of page tables): two per commit group cost a
 * 20,000-file pull ~0.9 s of the main thread. The shell forks only itself.
 */
class SyncfsServer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  #broken: Error | undefined;
  #pending = '';

  constructor() {
    this.#child = spawn('/bin/sh', ['-c', SERVER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.on('error', (error) => this.#fail(error));
    this.#child.on('exit', () => this.#fail(new Error('the sync -f shell exited')));
    this.#child.stdin.on('error', (error) => this.#fail(error));
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (text: string) => this.#answer(text));
    this.#child.stderr.resume();
    this.#holdProcess(false);
  }

  /** Resolves once the file system holding `path` has been synced; rejects if it could not be. */
  sync(path: string): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (path.includes('\n')) return Promise.reject(new Error('a path with a newline cannot be passed to the sync -f shell'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#holdProcess(true);
      this.#child.stdin.write(`${path}\n`);
    });
  }

  #answer(text: string): void {
    const lines = (this.#pending + text).split('\n');
    this.#pending = lines.pop() ?? '';
    for (const line of lines) {
      const waiter = this.#waiting.shift();
      if (line === 'ok') waiter?.resolve();
      else waiter?.reject(new Error('sync -f failed'));
    }
    if (this.#waiting.length === 0) this.#holdProcess(false);
  }

  #fail(error: Error): void {
    this.#broken ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#broken);
  }

  /** Only while an answer is awaited does the shell keep gsync running. */
  #holdProcess(hold: boolean): void {
    if (hold) this.#child.ref();
    else this.#child.unref();
    for (const stream of [this.#child.stdin, this.#child.stdout, this.#child.stderr]) {
      const pipe = stream as unknown as { ref?: () => void; unref?: () => void };
      if (hold) pipe.ref?.();
      else pipe.unref?.();
    }
  }
}

let server: SyncfsServer | undefined;

/** Syncs the file system holding `path` (syncfs), through the one shell this thread starts for it. */
export function syncFilesystem(path: string): Promise<void> {
  server ??= new SyncfsServer();
  return server.sync(path);
}
