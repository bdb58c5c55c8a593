import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startProxy, type TcpProxy } from './proxy.js';
import { killGroup } from './runProcess.js';
import { startSshd, type Sshd } from './sshd.js';
import { makeTempDir, removeTempDir } from './tmp.js';
import { writeTree, type TreeSpec } from './trees.js';

export interface E2eSuiteOptions {
  /** makeTempDir's prefix (e.g. 'gsync-e2e-iso-'), so a directory left behind names its suite. */
  readonly prefix: string;
  /** Also start a TcpProxy in front of sshd, reachable as the host alias `via-proxy`, for fault tests. */
  readonly proxy?: boolean;
}

/** What a test file uses; sshd and proxy exist from the suite's beforeAll on, so read them in hooks and tests only. */
export interface E2eSuite {
  readonly sshd: Sshd;
  /** Only with `proxy: true`. */
  readonly proxy: TcpProxy;
  /** A fresh local directory, removed after the test. */
  tempDir(): Promise<string>;
  /** Writes `spec` under sshd.dataDir, owned by the login user; returns its root. */
  remoteTree(name: string, spec: TreeSpec): Promise<string>;
  /** A child whose process group is killed after the test, should the test not have ended it. */
  track<T extends ChildProcess>(child: T): T;
}

/**
 * The lifecycle every e2e file needs, so each file states only what it tests: one sshd (and,
 * when asked, a proxy) for the whole file, and per-test cleanup. Call it once at the top level of
 * a test file: it registers the hooks itself. After each test, in this order: the proxy is back to
 * `pass` (a test that failed mid-fault must not hand its fault to the next), tracked children are
 * killed (they may hold files in the temp dirs), then the temp dirs go. Vitest runs after-hooks
 * in reverse order of registration, so a file's own afterEach registered after this call runs
 * before these.
 */
export function e2eSuite(options: E2eSuiteOptions): E2eSuite {
  let sshd: Sshd | undefined;
  let proxy: TcpProxy | undefined;
  const temps: string[] = [];
  const children: ChildProcess[] = [];
  let trees = 0;

  beforeAll(async () => {
    sshd = await startSshd();
    if (options.proxy === true) {
      proxy = await startProxy(sshd.port);
      await sshd.addAlias('via-proxy', proxy.port);
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await sshd?.stop();
  });
  afterEach(async () => {
    proxy?.setMode({ kind: 'pass' });
    for (const child of children.splice(0)) killGroup(child);
    await Promise.all(temps.splice(0).map(removeTempDir));
  });

  const started = (): Sshd => {
    if (sshd === undefined) throw new Error('e2eSuite: sshd starts in beforeAll; use it from hooks and tests');
    return sshd;
  };

  return {
    get sshd(): Sshd {
      return started();
    },
    get proxy(): TcpProxy {
      if (proxy === undefined) throw new Error(options.proxy === true ? 'e2eSuite: the proxy starts in beforeAll' : 'e2eSuite: no proxy was asked for (proxy: true)');
      return proxy;
    },
    async tempDir(): Promise<string> {
      const path = await makeTempDir(options.prefix);
      temps.push(path);
      return path;
    },
    // A numbered directory above each tree keeps every tree apart within the file while the tree
    // keeps the name the test gave it: a pull without a local-dir lands in ./<name>.
    async remoteTree(name: string, spec: TreeSpec): Promise<string> {
      const server = started();
      const root = join(server.dataDir, String(trees++), name);
      await writeTree(root, spec, { owner: server.user });
      return root;
    },
    track<T extends ChildProcess>(child: T): T {
      children.push(child);
      return child;
    },
  };
}
