import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killTreesAndWait } from '../test/support/processTree.js';
import { generateKeyPair } from '../test/support/sshKeys.js';
import { renderClientHost, renderSshdConfig, sshdVersion } from '../test/support/sshdConfig.js';
import { ensureTestUser } from '../test/support/ensureTestUser.js';
import { SSHD_PATH } from '../test/support/sshdPath.js';
import { launchSshd } from '../test/support/sshdProcess.js';
import { TEST_USER_NAME } from '../test/support/testUser.js';
import type { Endpoint } from './tools.js';
import { startWanProxy, type WanProxy } from './wanProxy.js';

/** Payload bytes that crossed between client and server, per direction, since the server started. */
export interface ByteCounts {
  down: number;
  up: number;
}

/** The bench's own sshd and the client files that reach it. */
export interface BenchServer {
  /** How bytes are counted, for the report: 'veth in netns gsync-bench' or 'proxy on 127.0.0.1'. */
  readonly where: string;
  readonly endpoint: Endpoint;
  readonly home: string;
  readonly configPath: string;
  readonly identityPath: string;
  readonly knownHostsPath: string;
  counters(): ByteCounts;
  /** A WAN link in front of the server, with its own alias in the ssh config. */
  startWan(name: string, oneWayDelayMs: number, rateBitsPerSecond?: number): Promise<{ endpoint: Endpoint; proxy: WanProxy }>;
  stop(): Promise<void>;
}

const NAMESPACE = 'gsync-bench';
const HOST_IF = 'gsb0';
const NS_IF = 'gsb1';
const HOST_ADDRESS = '10.213.71.1';
const SERVER_ADDRESS = '10.213.71.2';

/**
 * Starts sshd in a network namespace over a veth pair when it can (bytes are read off the veth
 * counters, and no user-space hop costs CPU), else on 127.0.0.1 behind a counting proxy. All its
 * files live in `dir`; the client logs in as the unprivileged test user (shell /bin/sh).
 */
export async function startBenchServer(dir: string, log: (line: string) => void): Promise<BenchServer> {
  const server = join(dir, 'server');
  const home = join(dir, 'home');
  const sshDir = join(home, '.ssh');
  mkdirSync(server, { recursive: true });
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation dir
  const hostKeyPath = join(server, 'ssh_host_ed25519_key');
  const identityPath = join(sshDir, 'id_ed25519');
  const configPath = join(sshDir, 'config');
  const knownHostsPath = join(sshDir, 'known_hosts');
  for (const key of [hostKeyPath, identityPath]) for (const path of [key, `${key}.pub`]) rmSync(path, { force: true }); // ssh-keygen will not overwrite
  const [hostKey, clientKey, [major, minor]] = await Promise.all([generateKeyPair(hostKeyPath), generateKeyPair(identityPath), sshdVersion()]);
  const authorizedKeysPath = join(server, 'authorized_keys');
  writeFileSync(authorizedKeysPath, `${clientKey}\n`);
  writeFileSync(configPath, '', { mode: 0o600 });
  writeFileSync(knownHostsPath, '', { mode: 0o600 });
  // Not root: the server runs each exec through the login shell (rclone runs `md5sum` per file),
  // and root's rc files on a dev box (pyenv, nvm) would make the peers pay for our machine.
  await ensureTestUser();
  const user = TEST_USER_NAME;
  const sshdConfig = (listenAddress: string, port: number): string =>
    renderSshdConfig({ listenAddress, port, hostKeyPath, authorizedKeysPath, disablePenalties: major > 9 || (major === 9 && minor >= 8) });
  const addAlias = (alias: string, host: string, port: number): Endpoint => {
    appendFileSync(configPath, renderClientHost({ alias, hostName: host, port, user, identityPath, knownHostsPath }));
    appendFileSync(knownHostsPath, `${port === 22 ? host : `[${host}]:${port}`} ${hostKey}\n`);
    return { alias, host, port, user };
  };
  const files = { home, configPath, identityPath, knownHostsPath };

  const namespace = process.getuid?.() === 0 ? await startInNamespace(server, sshdConfig, log) : undefined;
  const target = namespace ?? (await startOnLoopback(server, sshdConfig));
  const proxies: WanProxy[] = [];
  const startWan = async (name: string, oneWayDelayMs: number, rateBitsPerSecond?: number): Promise<{ endpoint: Endpoint; proxy: WanProxy }> => {
    const proxy = await startWanProxy({
      targetHost: target.host,
      targetPort: target.port,
      oneWayDelayMs,
      ...(rateBitsPerSecond === undefined ? {} : { rateBitsPerSecond }),
    });
    proxies.push(proxy);
    return { endpoint: addAlias(name, '127.0.0.1', proxy.port), proxy };
  };
  if (namespace !== undefined) {
    return {
      where: `veth in netns ${NAMESPACE} (payload = bytes − headers)`,
      endpoint: addAlias('bench', SERVER_ADDRESS, 22),
      ...files,
      counters: vethCounters(HOST_IF),
      startWan,
      stop: async () => {
        await Promise.all(proxies.map((p) => p.close()));
        await namespace.stop();
      },
    };
  }
  // No namespace: a pass-through proxy counts the bytes (and costs some CPU, said in the report).
  const { endpoint, proxy } = await startWan('bench', 0);
  return {
    where: 'proxy on 127.0.0.1 (no network namespace: not root)',
    endpoint,
    ...files,
    counters: () => proxy.counters(),
    startWan,
    stop: async () => {
      await Promise.all(proxies.map((p) => p.close()));
      await target.stop();
    },
  };
}

interface Running {
  host: string;
  port: number;
  stop(): Promise<void>;
}

function ip(...args: string[]): { ok: boolean; error: string } {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: result.status === 0, error: result.stderr ?? String(result.error) };
}

/** Removes what a crashed earlier bench may have left. */
function removeNamespace(): void {
  ip('link', 'del', HOST_IF);
  ip('netns', 'del', NAMESPACE);
}

async function startInNamespace(server: string, sshdConfig: (address: string, port: number) => string, log: (line: string) => void): Promise<Running | undefined> {
  removeNamespace();
  const steps: string[][] = [
    ['netns', 'add', NAMESPACE],
    ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF],
    ['link', 'set', NS_IF, 'netns', NAMESPACE],
    ['addr', 'add', `${HOST_ADDRESS}/30`, 'dev', HOST_IF],
    ['link', 'set', HOST_IF, 'up'],
    ['-n', NAMESPACE, 'addr', 'add', `${SERVER_ADDRESS}/30`, 'dev', NS_IF],
    ['-n', NAMESPACE, 'link', 'set', NS_IF, 'up'],
    ['-n', NAMESPACE, 'link', 'set', 'lo', 'up'],
  ];
  for (const step of steps) {
    const result = ip(...step);
    if (!result.ok) {
      log(`no network namespace (ip ${step.join(' ')}: ${result.error.trim()}); serving on 127.0.0.1`);
      removeNamespace();
      return undefined;
    }
  }
  // IPv6 neighbour discovery would add a few stray packets to the counters.
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${HOST_IF}/disable_ipv6`, '1');
  } catch {
    // No IPv6 in this kernel: nothing to silence.
  }
  const configPath = join(server, 'sshd_config');
  writeFileSync(configPath, sshdConfig(SERVER_ADDRESS, 22));
  const child = spawn('ip', ['netns', 'exec', NAMESPACE, SSHD_PATH, '-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ready = `Server listening on ${SERVER_ADDRESS} port 22`;
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null) await killTreesAndWait([child.pid]);
    removeNamespace();
  };
  let text = '';
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.stderr.on('data', (chunk: Buffer) => {
      if (text.length < 65_536) text += chunk.toString();
      if (text.includes(ready)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('close', () => resolve(false));
  });
  if (!ok) {
    await stop();
    throw new Error(`sshd in netns ${NAMESPACE} did not start:\n${text}`);
  }
  return { host: SERVER_ADDRESS, port: 22, stop };
}

async function startOnLoopback(server: string, sshdConfig: (address: string, port: number) => string): Promise<Running> {
  const daemon = await launchSshd({
    configPath: join(server, 'sshd_config'),
    logPath: join(server, 'sshd.log'),
    renderConfig: (port) => sshdConfig('127.0.0.1', port),
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  return { host: '127.0.0.1', port: daemon.port, stop: () => daemon.stop() };
}

/**
 * Payload bytes off the host end of the veth: rx is what the server sent (down), tx what the
 * client sent (up). Each packet (a GSO super-packet counts once) carries Ethernet + IPv4 + TCP
 * headers: 54 bytes, 66 with TCP timestamps.
 */
function vethCounters(device: string): () => ByteCounts {
  const read = (name: string): number => Number(readFileSync(`/sys/class/net/${device}/statistics/${name}`, 'utf8'));
  const timestamps = readFileSync('/proc/sys/net/ipv4/tcp_timestamps', 'utf8').trim() !== '0';
  const header = 54 + (timestamps ? 12 : 0);
  return () => ({
    down: Math.max(0, read('rx_bytes') - header * read('rx_packets')),
    up: Math.max(0, read('tx_bytes') - header * read('tx_packets')),
  });
}
