import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, readFile, stat } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, pidsWithCmdline } from '../support/processTree.js';
import { startProxy, type TcpProxy } from '../support/proxy.js';
import { pseudoRandomChunks } from '../support/pseudoRandom.js';
import { killGroup, runProcess, spawnDetached, type ProcessResult } from '../support/runProcess.js';
import { generateKeyPair } from '../support/sshKeys.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { renderSshdConfig } from '../support/sshdConfig.js';
import { launchSshd } from '../support/sshdProcess.js';
import { testUser } from '../support/testUser.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import { dir, file, fileSeed, pseudoRandomBytes, readTree, symlink, writeTree } from '../support/trees.js';
import { readsSshBanner } from '../support/waitForBanner.js';

const asRoot = process.getuid?.() === 0;
const MiB = 1 << 20;

/** Runs OpenSSH's ssh against the sshd's config; -F because ssh reads ~ from passwd, not $HOME. */
function ssh(sshd: Sshd, host: string, command: string, extra: string[] = [], timeoutMs = 30_000): Promise<ProcessResult> {
  return runProcess('ssh', ['-F', sshd.configPath, '-o', 'BatchMode=yes', ...extra, host, command], {
    env: sshd.env,
    timeoutMs,
  });
}

function sftp(sshd: Sshd, batch: string): Promise<ProcessResult> {
  return runProcess('sftp', ['-F', sshd.configPath, '-o', 'BatchMode=yes', '-b', '-', sshd.alias], {
    env: sshd.env,
    input: batch,
    timeoutMs: 30_000,
  });
}

function text(result: ProcessResult): string {
  return `code ${result.code} signal ${result.signal}\nstdout: ${result.stdout.toString().slice(0, 2000)}\nstderr: ${result.stderr.toString()}`;
}

/** `promise`, or 'timed out' after `ms`: a bound on an event wait, not a sleep. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('sshd', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('lets OpenSSH ssh log in through the alias as the test user', async () => {
    const result = await ssh(sshd, sshd.alias, 'id -un; id -u');
    expect(result.code, text(result)).toBe(0);
    expect(result.stdout.toString().split('\n').slice(0, 2)).toEqual([sshd.user.name, String(sshd.user.uid)]);
    expect(sshd.user.name).toBe(asRoot ? 'gsynctest' : testUser().name);
  });

  it('is trusted only through its known_hosts line (strict host key checking is real)', async () => {
    const known = await readFile(sshd.knownHostsPath, 'utf8');
    expect(known).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyLine}\n`);
    expect(sshd.hostKeyLine).toMatch(/^ssh-ed25519 AAAA\S+$/);
    const result = await ssh(sshd, sshd.alias, 'true', ['-o', 'UserKnownHostsFile=/dev/null']);
    expect(result.code, text(result)).toBe(255);
    expect(result.stderr.toString()).toMatch(/Host key verification failed/);
  });

  it('gives the client a private HOME, key and env', async () => {
    expect(sshd.host).toBe('127.0.0.1');
    expect(sshd.alias).toBe('gsync-test');
    expect(sshd.configPath).toBe(join(sshd.home, '.ssh', 'config'));
    expect(sshd.identityPath).toBe(join(sshd.home, '.ssh', 'id_ed25519'));
    expect((await stat(sshd.identityPath)).mode & 0o777).toBe(0o600);
    expect(existsSync(`${sshd.identityPath}.pub`)).toBe(true);
    expect(await readFile(sshd.configPath, 'utf8')).toContain(
      [
        'Host gsync-test',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        `  User ${sshd.user.name}`,
        `  IdentityFile ${sshd.identityPath}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${sshd.knownHostsPath}`,
        '  StrictHostKeyChecking yes',
      ].join('\n'),
    );
    expect(sshd.env['HOME']).toBe(sshd.home);
    expect(sshd.env).not.toHaveProperty('SSH_AUTH_SOCK');
    const data = await stat(sshd.dataDir);
    expect([data.uid, data.gid]).toEqual([sshd.user.uid, sshd.user.gid]);
  });

  it('serves sftp: lists dataDir and fetches a readable file', async () => {
    await writeTree(sshd.dataDir, { 'listed.txt': file('hello\n') }, { owner: sshd.user });
    const local = await makeTempDir('gsync-harness-');
    try {
      const result = await sftp(sshd, `ls -1 ${sshd.dataDir}\nget ${sshd.dataDir}/listed.txt ${local}/got.txt\n`);
      expect(result.code, text(result)).toBe(0);
      expect(result.stdout.toString()).toContain(`${sshd.dataDir}/listed.txt`);
      expect(await readFile(join(local, 'got.txt'), 'utf8')).toBe('hello\n');
    } finally {
      await removeTempDir(local);
    }
  });

  it('accepts ssh2 (the library under test) with the same key and host key', async () => {
    const hostKey = Buffer.from(sshd.hostKeyLine.split(' ')[1]!, 'base64');
    const names = await new Promise<string[]>((resolve, reject) => {
      const client = new Client();
      client.on('error', reject);
      client.on('ready', () =>
        client.sftp((error, sftp) => {
          if (error) return reject(error);
          sftp.readdir(sshd.dataDir, (readError, list) => {
            client.end();
            if (readError) reject(readError);
            else resolve(list.map((entry) => entry.filename));
          });
        }),
      );
      client.connect({
        host: sshd.host,
        port: sshd.port,
        username: sshd.user.name,
        privateKey: readFileSync(sshd.identityPath),
        hostVerifier: (key: Buffer) => key.equals(hostKey),
        readyTimeout: 10_000,
      });
    });
    expect(names).toContain('listed.txt');
  });

  it('makes a mode-000 file in dataDir unreadable to the login user', async () => {
    await writeTree(sshd.dataDir, { 'secret.bin': file(100, { mode: 0 }) }, { owner: sshd.user });
    const secret = await stat(join(sshd.dataDir, 'secret.bin'));
    expect([secret.mode & 0o777, secret.uid]).toEqual([0, sshd.user.uid]);
    const local = await makeTempDir('gsync-harness-');
    try {
      const result = await sftp(sshd, `get ${sshd.dataDir}/secret.bin ${local}/secret.bin\n`);
      expect(result.code, text(result)).not.toBe(0);
      expect(result.stderr.toString()).toMatch(/Permission denied/);
    } finally {
      await removeTempDir(local);
    }
  });
});

describe('sshd lifecycle', () => {
  it('starts two at once on different ports, both serving', async () => {
    const both = await Promise.allSettled([startSshd(), startSshd()]);
    const started = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(both.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      const [a, b] = started as [Sshd, Sshd];
      expect(a.port).not.toBe(b.port);
      expect(a.home).not.toBe(b.home);
      expect(await Promise.all([readsSshBanner(a.port, 5_000), readsSshBanner(b.port, 5_000)])).toEqual([true, true]);
    } finally {
      await Promise.all(started.map((s) => s.stop()));
    }
  });

  it('retries on another port when its port is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as AddressInfo).port;
    const root = await makeTempDir('gsync-harness-');
    let next = 20_000 + Math.floor(Math.random() * 10_000);
    const ports = [taken];
    try {
      const hostKeyPath = join(root, 'host_key');
      await generateKeyPair(hostKeyPath);
      const sshd = await launchSshd({
        configPath: join(root, 'sshd_config'),
        logPath: join(root, 'sshd.log'),
        renderConfig: (port) =>
          renderSshdConfig({ port, hostKeyPath, authorizedKeysPath: join(root, 'none'), disablePenalties: false }),
        env: { PATH: '/usr/bin:/bin' },
        pickPort: () => ports.shift() ?? next++,
      });
      try {
        expect(sshd.portsTaken[0]).toBe(taken);
        expect(sshd.port).not.toBe(taken);
        expect(await readsSshBanner(sshd.port, 5_000)).toBe(true);
        expect(await readFile(join(root, 'sshd.log'), 'utf8')).toMatch(/Address already in use/);
      } finally {
        await sshd.stop();
      }
    } finally {
      squatter.close();
      await removeTempDir(root);
    }
  });

  it('stop() kills sshd and its sessions, frees the port and removes its dirs', async () => {
    const sshd = await startSshd();
    // A session with a remote process that would outlive a naive kill: the listener's
    // per-connection children setsid() out of its process group.
    const client = spawnDetached('ssh', ['-F', sshd.configPath, '-o', 'BatchMode=yes', sshd.alias, 'sleep 600 & echo $!; wait'], {
      env: sshd.env,
    });
    const ended = new Promise<number | null>((resolve) => client.once('close', (code) => resolve(code)));
    let remotePid: number | undefined;
    try {
      remotePid = await new Promise<number>((resolve, reject) => {
        let out = '';
        client.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(Number(out.trim()));
        });
        client.once('close', () => reject(new Error(`ssh ended before the remote command started: ${out}`)));
      });
      expect(isAlive(remotePid)).toBe(true);
      const root = dirname(sshd.home);
      await sshd.stop();
      expect(await within(10_000, ended)).toBe(255);
      expect(isAlive(remotePid)).toBe(false);
      expect(pidsWithCmdline((c) => c.includes(root))).toEqual([]);
      expect(existsSync(root)).toBe(false);
      expect(existsSync(sshd.dataDir)).toBe(false);
      const refused = await new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: sshd.port });
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    } finally {
      killGroup(client);
      if (remotePid !== undefined && isAlive(remotePid)) process.kill(remotePid, 'SIGKILL');
      await sshd.stop(); // idempotent
    }
  });
});

describe('proxy in front of sshd', () => {
  let sshd: Sshd;
  let proxy: TcpProxy | undefined;
  let big: Buffer;
  let bigPath: string;
  beforeAll(async () => {
    sshd = await startSshd();
    await writeTree(sshd.dataDir, { 'big.bin': file(MiB) }, { owner: sshd.user });
    bigPath = join(sshd.dataDir, 'big.bin');
    big = pseudoRandomBytes(fileSeed('big.bin', MiB), MiB);
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  /** A proxy with a fresh alias: ssh takes the first matching Host block, so names are per port. */
  async function proxied(mode?: Parameters<typeof startProxy>[1], name?: string): Promise<[TcpProxy, string]> {
    proxy = await startProxy(sshd.port, mode);
    const alias = name ?? `via-proxy-${proxy.port}`;
    await sshd.addAlias(alias, proxy.port);
    return [proxy, alias];
  }

  it('passes ssh sessions and counts bytes both ways', async () => {
    const [p, alias] = await proxied(undefined, 'via-proxy');
    const login = await ssh(sshd, alias, 'true');
    expect(login.code, text(login)).toBe(0);
    expect(await readFile(sshd.knownHostsPath, 'utf8')).toContain(`[127.0.0.1]:${p.port} ${sshd.hostKeyLine}\n`);
    const upAfterLogin = p.bytesUp;
    expect(upAfterLogin).toBeGreaterThan(0);
    const cat = await ssh(sshd, alias, `cat ${bigPath}`);
    expect(cat.code, text(cat)).toBe(0);
    expect(sha256(cat.stdout)).toBe(sha256(big));
    expect(p.bytesDown).toBeGreaterThan(MiB);
    expect(p.bytesDown).toBeGreaterThan(p.bytesUp);
    expect(p.bytesUp).toBeGreaterThan(upAfterLogin);
    expect(p.connections).toBe(2);
  });

  it('drop-after resets the session after exactly that many bytes down', async () => {
    const [p, alias] = await proxied({ kind: 'drop-after', bytes: 256 * 1024 });
    const cat = await ssh(sshd, alias, `cat ${bigPath}`);
    expect(cat.code, text(cat)).toBe(255);
    expect(cat.stdout.length).toBeLessThan(256 * 1024);
    expect(p.bytesDown).toBe(256 * 1024);
    // The next connection gets its own allowance, and drops again.
    const again = await ssh(sshd, alias, `cat ${bigPath}`);
    expect(again.code, text(again)).toBe(255);
    expect(p.bytesDown).toBe(512 * 1024);
    expect(p.connections).toBe(2);
  });

  it('drop-after 0 resets every new connection at once', async () => {
    const [p, alias] = await proxied({ kind: 'drop-after', bytes: 0 });
    const result = await ssh(sshd, alias, 'true');
    expect(result.code, text(result)).toBe(255);
    expect([p.connections, p.bytesDown]).toEqual([1, 0]);
  });

  it('stall-after stops all bytes until the client gives up, with sockets open', async () => {
    const [p, alias] = await proxied({ kind: 'stall-after', bytes: 256 * 1024 });
    let upAtStall = -1;
    const stalled = p.waitForBytesDown(256 * 1024).then(() => {
      upAtStall = p.bytesUp;
    });
    const started = performance.now();
    const cat = await ssh(sshd, alias, `cat ${bigPath}`, ['-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2']);
    await stalled;
    expect(cat.code, text(cat)).toBe(255);
    expect(cat.stderr.toString()).toMatch(/Timeout, server .* not responding/);
    // Nothing crossed either way after the limit, while the client's keepalives went unanswered
    // for ~3 s (and the client's close is held back too).
    expect(p.bytesDown).toBe(256 * 1024);
    expect(p.bytesUp).toBe(upAtStall);
    expect(performance.now() - started).toBeGreaterThan(1_000); // at least one ServerAliveInterval
  });

  it('a stalled session holds its bytes and resumes intact when the mode changes', async () => {
    const [p, alias] = await proxied({ kind: 'stall-after', bytes: 256 * 1024 });
    const cat = ssh(sshd, alias, `cat ${bigPath}`);
    await p.waitForBytesDown(256 * 1024);
    expect(p.bytesDown).toBe(256 * 1024);
    p.setMode({ kind: 'pass' });
    const result = await cat;
    expect(result.code, text(result)).toBe(0);
    expect(sha256(result.stdout)).toBe(sha256(big));
  });

  it('delay mode still carries ssh, slowed by the delayed round trips', async () => {
    const [, alias] = await proxied({ kind: 'delay', ms: 150 });
    const started = performance.now();
    const result = await ssh(sshd, alias, 'true');
    expect(result.code, text(result)).toBe(0);
    // Banner, kex, auth and exec take well over 3 round trips of 2 × 150 ms; undelayed the whole
    // login takes ~200 ms here.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('proxy on its own', () => {
  let echo: Server;
  let echoPort: number;
  let proxy: TcpProxy | undefined;
  beforeAll(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await new Promise((resolve) => echo.close(resolve));
  });

  /** Sends `messages` one by one and resolves with the echo and the time until all of it came back. */
  function roundTrip(port: number, messages: string[]): Promise<{ echoed: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const expected = messages.join('');
      const socket = connect({ host: '127.0.0.1', port });
      let echoed = '';
      let started = 0;
      socket.on('error', reject);
      socket.on('connect', () => {
        started = performance.now();
        for (const message of messages) socket.write(message);
      });
      socket.on('data', (chunk: Buffer) => {
        echoed += chunk.toString();
        if (echoed.length >= expected.length) {
          socket.destroy();
          resolve({ echoed, ms: performance.now() - started });
        }
      });
    });
  }

  it('delay adds at least twice the delay to a round trip and keeps order', async () => {
    proxy = await startProxy(echoPort, { kind: 'delay', ms: 100 });
    const messages = Array.from({ length: 50 }, (_, i) => `<${i}>`);
    const { echoed, ms } = await roundTrip(proxy.port, messages);
    expect(echoed).toBe(messages.join(''));
    expect(ms).toBeGreaterThanOrEqual(200);
    proxy.setMode({ kind: 'pass' });
    expect((await roundTrip(proxy.port, ['ping'])).ms).toBeLessThan(100);
  });

  it('waitForBytesDown resolves on the event and rejects when the proxy closes first', async () => {
    proxy = await startProxy(echoPort);
    const reached = proxy.waitForBytesDown(4);
    const never = proxy.waitForBytesDown(1_000_000);
    await roundTrip(proxy.port, ['ping']);
    await reached;
    expect(proxy.bytesDown).toBe(4);
    await proxy.close();
    await expect(never).rejects.toThrow(/closed/);
  });

  it('survives a target that refuses and clients that reset', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((resolve) => gone.close(resolve));
    proxy = await startProxy(port);
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: proxy!.port });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      socket.on('close', () => resolve('closed'));
      socket.resume();
    });
    expect(['closed', 'ECONNRESET']).toContain(outcome);
    proxy.setMode({ kind: 'pass' });
    await proxy.close();
    proxy = await startProxy(echoPort);
    const socket = connect({ host: '127.0.0.1', port: proxy.port });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write('x');
    socket.resetAndDestroy();
    expect((await roundTrip(proxy.port, ['still alive'])).echoed).toBe('still alive');
  });
});

describe('trees', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await removeTempDir(d);
  });
  async function temp(): Promise<string> {
    const d = await makeTempDir('gsync-harness-');
    dirs.push(d);
    return d;
  }

  it('round-trips modes, mtimes, sizes, symlinks, empty dirs and odd names', async () => {
    const root = join(await temp(), 'tree');
    await writeTree(root, {
      'a.txt': file('hello', { mode: 0o600, mtime: 1_600_000_000 }),
      'rand.bin': file(3000, { mtime: new Date(1_500_000_000_500) }),
      'empty.bin': file(0),
      'café ü.txt': file(Buffer.from('ü')),
      'with space': dir({ 'x y': file('z') }, { mode: 0o750, mtime: 1_400_000_000 }),
      empty: dir({}, { mtime: 1_300_000_000 }),
      deep: dir({ deeper: dir({ 'f.txt': file('f', { mode: 0o444 }) }, { mtime: 1_200_000_000 }) }, { mtime: 1_100_000_000 }),
      link: symlink('a.txt'),
      dangling: symlink('../nowhere'),
      secret: file('s', { mode: 0 }),
      '.gsync': dir({ 'state.db': file('skip me') }),
    });
    const tree = await readTree(root);
    const shaOf = (s: string | Buffer): string => sha256(Buffer.from(s));
    expect([...tree.keys()]).toEqual([
      'a.txt',
      'café ü.txt',
      'dangling',
      'deep',
      'deep/deeper',
      'deep/deeper/f.txt',
      'empty',
      'empty.bin',
      'link',
      'rand.bin',
      'secret',
      'with space',
      'with space/x y',
    ]);
    expect(tree.get('a.txt')).toEqual({ kind: 'file', mode: 0o600, mtime: 1_600_000_000, size: 5, sha256: shaOf('hello') });
    expect(tree.get('rand.bin')).toMatchObject({
      kind: 'file',
      mode: 0o644,
      mtime: 1_500_000_000,
      size: 3000,
      sha256: sha256(pseudoRandomBytes(fileSeed('rand.bin', 3000), 3000)),
    });
    expect(tree.get('empty.bin')).toMatchObject({ size: 0, sha256: shaOf('') });
    expect(tree.get('café ü.txt')).toMatchObject({ kind: 'file', size: 2 });
    expect(tree.get('with space')).toEqual({ kind: 'dir', mode: 0o750, mtime: 1_400_000_000 });
    expect(tree.get('empty')).toEqual({ kind: 'dir', mode: 0o755, mtime: 1_300_000_000 });
    expect(tree.get('deep')).toMatchObject({ mtime: 1_100_000_000 });
    expect(tree.get('deep/deeper')).toMatchObject({ mtime: 1_200_000_000 });
    expect(tree.get('deep/deeper/f.txt')).toMatchObject({ mode: 0o444, sha256: shaOf('f') });
    expect(tree.get('link')).toMatchObject({ kind: 'symlink', target: 'a.txt' });
    expect(tree.get('dangling')).toMatchObject({ kind: 'symlink', target: '../nowhere' });
    expect(tree.get('secret')).toMatchObject({ mode: 0 });
    expect((await lstat(join(root, 'link'))).isSymbolicLink()).toBe(true);
  });

  it('makes random content reproducible per name and size, and incompressible', async () => {
    const root = await temp();
    await writeTree(root, { a: dir({ 'x.bin': file(4096) }), b: dir({ 'x.bin': file(4096), 'y.bin': file(4096) }) });
    const tree = await readTree(root);
    expect(tree.get('a/x.bin')?.sha256).toBe(tree.get('b/x.bin')?.sha256);
    expect(tree.get('a/x.bin')?.sha256).not.toBe(tree.get('b/y.bin')?.sha256);
    const bytes = await readFile(join(root, 'a', 'x.bin'));
    expect(gzipSync(bytes).length).toBeGreaterThan(4096);
  });

  it('generates 64 MiB of pseudo-random bytes quickly', () => {
    const started = performance.now();
    let total = 0;
    for (const chunk of pseudoRandomChunks('speed', 64 * MiB)) total += chunk.length;
    const ms = performance.now() - started;
    expect(total).toBe(64 * MiB);
    expect(ms).toBeLessThan(1_000);
  });

  it.runIf(asRoot)('chowns what it creates to the owner, root dir included', async () => {
    const owner = testUser();
    const base = await temp();
    const root = join(base, 'new', 'tree');
    await writeTree(root, { d: dir({ f: file('x') }), l: symlink('d') }, { owner });
    for (const path of [join(base, 'new'), root, join(root, 'd'), join(root, 'd', 'f'), join(root, 'l')]) {
      expect((await lstat(path)).uid, path).toBe(owner.uid);
    }
    expect((await lstat(base)).uid).toBe(0);
  });

  it('removeTempDir removes trees with mode-000 dirs and files', async () => {
    const root = await makeTempDir('gsync-harness-');
    await writeTree(root, { locked: dir({ inner: dir({ f: file('x', { mode: 0 }) }) }, { mode: 0 }) });
    await removeTempDir(root);
    expect(existsSync(root)).toBe(false);
  });
});

describe('runProcess', () => {
  it('kills the whole process group on timeout, and waits for it to be dead', async () => {
    const result = await runProcess('sh', ['-c', 'sleep 37 & echo $!; wait'], { timeoutMs: 1_000 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    const background = Number(result.stdout.toString().trim());
    expect(background).toBeGreaterThan(0);
    expect(isAlive(background)).toBe(false);
  });

  it('reports exit codes and output, and feeds input', async () => {
    const result = await runProcess('sh', ['-c', 'cat; echo err >&2; exit 3'], { input: 'in' });
    expect([result.code, result.stdout.toString(), result.stderr.toString(), result.timedOut]).toEqual([3, 'in', 'err\n', false]);
  });
});
