import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { GSYNC_BIN, type GsyncResult } from './runGsync.js';
import { runProcess, type ProcessResult } from './runProcess.js';

/**
 * A private mount namespace held open by a long-lived process, so a test can give gsync a
 * destination on a small tmpfs or a read-only bind mount without touching the host's mounts
 * (needs root, or CAP_SYS_ADMIN, and util-linux's unshare and nsenter). Mounts made here never
 * show outside, and vanish with the holder.
 */
export interface MountNamespace {
  /** The holder's pid: `nsenter -t <pid> -m` enters the namespace. */
  readonly pid: number;
  /** Runs a command inside the namespace (cwd `/`); rejects with its stderr unless it exits 0. */
  exec(command: string, args: readonly string[]): Promise<void>;
  /** Mounts a fresh tmpfs of `bytes` bytes (and at most `inodes` files, if given) on `path` (an existing directory). */
  mountTmpfs(path: string, bytes: number, inodes?: number): Promise<void>;
  /** Resizes the tmpfs on `path`, keeping its content. */
  resizeTmpfs(path: string, bytes: number): Promise<void>;
  /** Bind-mounts `path` onto itself, so that it can be made read-only on its own later. */
  bindToItself(path: string): Promise<void>;
  /** Makes a bind mount (from bindToItself) read-only. Root cannot write there either. */
  remountReadOnly(path: string): Promise<void>;
  /** Makes such a bind mount writable again. */
  remountReadWrite(path: string): Promise<void>;
  /**
   * Runs `node <repo>/bin/run.js ...args` inside the namespace, as runGsync does outside it.
   * `cwd` is a path as the namespace sees it (default: this process's cwd).
   */
  runGsync(args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<GsyncResult>;
  /** The host path through which this process sees `path` as the namespace does (for readTree, readdir...). */
  view(path: string): string;
  /** Kills the holder (the namespace and its mounts go with it) and waits for it. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the holder: `unshare -m --propagation private sh -c 'echo ready; read _'`, in its own
 * process group. It waits on a stdin pipe only this process holds, so it also ends (and the
 * mounts with it) if the test process dies without calling stop().
 */
export async function startMountNamespace(): Promise<MountNamespace> {
  const holder = spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', 'echo ready; read _'], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  holder.stdin.on('error', () => undefined);
  try {
    await ready(holder);
  } catch (error) {
    await kill(holder);
    throw error;
  }
  const pid = holder.pid!;
  // 'ready' is printed after unshare(2), so the namespace is already its own; check anyway,
  // since an nsenter into the host's namespace would mount over the host's paths.
  if (readlinkSync(`/proc/${pid}/ns/mnt`) === readlinkSync('/proc/self/ns/mnt')) {
    await kill(holder);
    throw new Error('unshare -m did not give the holder a mount namespace of its own');
  }

  const inside = (command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<ProcessResult> =>
    runProcess('nsenter', ['-t', String(pid), '-m', `--wd=${options.cwd ?? '/'}`, '--', command, ...args], {
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  const exec = async (command: string, args: readonly string[]): Promise<void> => {
    const result = await inside(command, args, { timeoutMs: 10_000 });
    if (result.code !== 0) {
      throw new Error(`in the mount namespace, ${[command, ...args].join(' ')} failed (${result.code ?? result.signal}): ${result.stderr.toString('utf8').trim()}`);
    }
  };

  return {
    pid,
    exec,
    mountTmpfs: (path, bytes, inodes) => exec('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755${inodes === undefined ? '' : `,nr_inodes=${inodes}`}`, 'tmpfs', path]),
    resizeTmpfs: (path, bytes) => exec('mount', ['-o', `remount,size=${bytes}`, path]),
    bindToItself: (path) => exec('mount', ['--bind', path, path]),
    remountReadOnly: (path) => exec('mount', ['-o', 'remount,bind,ro', path]),
    remountReadWrite: (path) => exec('mount', ['-o', 'remount,bind,rw', path]),
    async runGsync(args, options) {
      const result = await inside(process.execPath, [GSYNC_BIN, ...args], { ...options, cwd: options.cwd ?? process.cwd() });
      return { code: result.code, signal: result.signal, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
    },
    view: (path) => `/proc/${pid}/root${path.startsWith('/') ? '' : '/'}${path}`,
    stop: () => kill(holder),
  };
}

/** Resolves once the holder says it is inside its namespace; rejects if it ends first. */
function ready(holder: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    holder.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    holder.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.includes('ready\n')) resolve();
    });
    holder.once('error', reject);
    holder.once('exit', (code, signal) => reject(new Error(`unshare -m ended before the namespace was ready (${code ?? signal}): ${stderr.trim()}`)));
  });
}

/** SIGKILLs the holder's process group and resolves once the holder has exited. */
function kill(holder: ChildProcess): Promise<void> {
  if (holder.exitCode !== null || holder.signalCode !== null || holder.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  try {
    process.kill(-holder.pid, 'SIGKILL');
  } catch {
    // ESRCH: it is already gone, and its 'exit' is on its way.
  }
  return exited;
}
