import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/core/target.js';
import { resolveConnectSpec } from '../../src/ssh/config.js';
import { openSession } from '../../src/ssh/connect.js';
import { CLIENT_SOFTWARE, openTcpAhead } from '../../src/ssh/transport.js';
import { startProxy } from '../support/proxy.js';
import { killGroup, runProcess } from '../support/runProcess.js';
import { REPO_ROOT, runGsync, spawnGsync, type GsyncResult } from '../support/runGsync.js';
import { generateKeyPair } from '../support/sshKeys.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import { file, readTree, writeTree } from '../support/trees.js';

/** Enough files that both worker connections get work, small enough to be quick. */
const tree = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}.bin`, file(1024 + i)]));
const PASSPHRASE = 'correct horse battery staple 7f3a';

let target: Sshd;
const temps: string[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  target = await startSshd();
});
afterAll(async () => {
  await target.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all(temps.splice(0).map(removeTempDir));
});

async function tempDir(): Promise<string> {
  const path = await makeTempDir('gsync-e2e-connect-');
  temps.push(path);
  return path;
}

async function extraSshd(options: Parameters<typeof startSshd>[0] = {}): Promise<Sshd> {
  const sshd = await startSshd(options);
  cleanups.push(() => sshd.stop());
  return sshd;
}

let trees = 0;
async function remoteTree(sshd: Sshd = target): Promise<string> {
  const root = join(sshd.dataDir, `tree${trees++}`);
  await writeTree(root, tree, { owner: sshd.user });
  return root;
}

/** A Host block for an sshd, by absolute paths only (ssh takes ~ from passwd, not HOME). */
function hostBlock(name: string, sshd: Sshd, lines: Record<string, string | undefined>): string {
  const settings: Record<string, string | undefined> = {
    HostName: '127.0.0.1',
    Port: String(sshd.port),
    User: sshd.user.name,
    IdentityFile: sshd.identityPath,
    IdentitiesOnly: 'yes',
    StrictHostKeyChecking: 'yes',
    ...lines,
  };
  const body = Object.entries(settings).flatMap(([key, value]) => (value === undefined ? [] : [`  ${key} ${value}`]));
  return `Host ${name}\n${body.join('\n')}\n`;
}

function knownHostsLine(sshd: Sshd): string {
  return `[127.0.0.1]:${sshd.port} ${sshd.hostKeyLine}\n`;
}

/** A client setup of its own: config and known_hosts in a temp dir, and an empty HOME (no default keys, no agent). */
async function client(blocks: (knownHosts: string) => string[], knownHostsText: string): Promise<{ dir: string; config: string; knownHosts: string; env: NodeJS.ProcessEnv }> {
  const dir = await tempDir();
  const home = join(dir, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, knownHostsText, { mode: 0o600 });
  const config = join(dir, 'config');
  await writeFile(config, blocks(knownHosts).join(''), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { ...target.env, HOME: home };
  for (const name of ['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'DISPLAY']) delete env[name];
  return { dir, config, knownHosts, env };
}

async function pull(config: string, source: string, local: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<GsyncResult> {
  return runGsync(['pull', '-F', config, '--connections', '2', ...extra, source, local], { env, timeoutMs: 60_000 });
}

async function expectMirrored(remote: string, local: string): Promise<void> {
  expect(await readTree(local)).toStrictEqual(await readTree(remote));
}

/** Logins sshd accepted, from its VERBOSE log. */
async function loginsOn(sshd: Sshd): Promise<number> {
  return ((await readFile(sshd.logPath, 'utf8')).match(/Accepted publickey for /g) ?? []).length;
}

/** Connections sshd accepted, from its VERBOSE log. */
async function connectionsOn(sshd: Sshd): Promise<number> {
  return ((await readFile(sshd.logPath, 'utf8')).match(/Connection from /g) ?? []).length;
}

/** An SSH_ASKPASS program that answers `answer` and counts its calls in `calls`. */
async function askpass(dir: string, answer: string): Promise<{ program: string; calls: () => Promise<number> }> {
  const program = join(dir, 'askpass.sh');
  const calls = join(dir, 'askpass.calls');
  await writeFile(program, `#!/bin/sh\necho called >> '${calls}'\nprintf '%s\\n' '${answer}'\n`, { mode: 0o700 });
  return {
    program,
    calls: async () => (existsSync(calls) ? (await readFile(calls, 'utf8')).split('\n').filter(Boolean).length : 0),
  };
}

/** A second client key authorised on the sshd, encrypted when a passphrase is given. */
async function authorisedKey(sshd: Sshd, dir: string, name: string, passphrase?: string): Promise<string> {
  const path = join(dir, name);
  await sshd.authorizeKey(await generateKeyPair(path, passphrase === undefined ? {} : { passphrase }));
  return path;
}

/** Two jump hosts and a client whose `gpu` reaches the target through both. */
async function twoHops(knownHosts: (jump1: Sshd, jump2: Sshd) => string): Promise<{ jump1: Sshd; jump2: Sshd; setup: Awaited<ReturnType<typeof client>> }> {
  const [jump1, jump2] = await Promise.all([extraSshd(), extraSshd()]);
  const setup = await client(
    (kh) => [
      hostBlock('jump1', jump1, { UserKnownHostsFile: kh }),
      hostBlock('jump2', jump2, { UserKnownHostsFile: kh }),
      hostBlock('gpu', target, { UserKnownHostsFile: kh, ProxyJump: 'jump1,jump2' }),
    ],
    knownHosts(jump1, jump2),
  );
  return { jump1, jump2, setup };
}

describe('routes: ProxyJump and ProxyCommand', () => {
  it('pulls through ProxyJump over two hops, every worker connection through both', async () => {
    const { jump1, jump2, setup } = await twoHops((j1, j2) => knownHostsLine(j1) + knownHostsLine(j2) + knownHostsLine(target));
    const remote = await remoteTree();
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, setup.env);
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
    // The main connection and at least one worker's each logged in on both hops.
    expect(await loginsOn(jump1)).toBeGreaterThanOrEqual(2);
    expect(await loginsOn(jump2)).toBeGreaterThanOrEqual(2);
  });

  it("verifies each hop's host key: a wrong key for the second hop stops the run with exit 5", async () => {
    // jump2 filed under jump1's key: a changed key.
    const { jump2, setup } = await twoHops((j1, j2) => knownHostsLine(j1) + `[127.0.0.1]:${j2.port} ${j1.hostKeyLine}\n` + knownHostsLine(target));
    const remote = await remoteTree();
    const result = await pull(setup.config, `gpu:${remote}`, join(setup.dir, 'out'), setup.env);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`host key of [127.0.0.1]:${jump2.port} changed`);
    expect(await loginsOn(jump2)).toBe(0);
  });

  it.each([
    { description: 'ssh -W through a jump host', command: (config: string) => `ssh -F ${config} -W %h:%p jump1` },
    { description: 'a netcat-like command', command: () => `${process.execPath} ${join(REPO_ROOT, 'dist/test/support/netcat.js')} %h %p` },
  ])('pulls through ProxyCommand: $description', async ({ command }) => {
    const jump1 = await extraSshd();
    const remote = await remoteTree();
    const setup = await client(
      (kh) => [
        hostBlock('jump1', jump1, { UserKnownHostsFile: kh, BatchMode: 'yes' }),
        hostBlock('gpu', target, { UserKnownHostsFile: kh, ProxyCommand: command(join(kh, '..', 'config')) }),
      ],
      knownHostsLine(jump1) + knownHostsLine(target),
    );
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, setup.env);
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
  });

  it('a ProxyCommand that dies under a running pull is the link dropping: a new one is started and the pull finishes', async () => {
    const remote = join(target.dataDir, 'proxy-dies');
    await writeTree(remote, { 'big.bin': file(24 * 1024 * 1024) }, { owner: target.user });
    const dir = await tempDir();
    const once = join(dir, 'die-once');
    await writeFile(once, '');
    const netcat = `${process.execPath} ${join(REPO_ROOT, 'dist/test/support/netcat.js')}`;
    // The first tunnel dies 3 MB into the run; those started after it stay up.
    const command = `sh -c 'if rm ${once} 2>/dev/null; then exec ${netcat} %h %p 3000000; else exec ${netcat} %h %p; fi'`;
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, ProxyCommand: command })], knownHostsLine(target));
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${join(remote, 'big.bin')}`, local, setup.env);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(once), 'the dying tunnel was the one used').toBe(false);
    expect(result.stderr).toMatch(/connection to gpu lost: the ProxyCommand for gpu ended \(exit 3\)/);
    expect((await readFile(join(local, 'big.bin'))).equals(await readFile(join(remote, 'big.bin'))), 'the copy is whole').toBe(true);
  });

  it('says what a failing ProxyCommand printed, with exit 5', async () => {
    const setup = await client(
      (kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, ProxyCommand: `sh -c 'echo "bastion: no route to %h" >&2; exit 7'` })],
      knownHostsLine(target),
    );
    const result = await pull(setup.config, 'gpu:/data', join(setup.dir, 'out'), setup.env);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/ProxyCommand for gpu ended \(exit 7\): bastion: no route to 127\.0\.0\.1/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('routes: cleanup', () => {
  it('leaves no ProxyCommand process behind, even one the command forked', async () => {
    const remote = await remoteTree();
    const dir = await tempDir();
    const pidFile = join(dir, 'forked.pid');
    const netcat = `${process.execPath} ${join(REPO_ROOT, 'dist/test/support/netcat.js')}`;
    // A helper the command forks that would outlive it (it ignores the end of the link).
    const command = `sh -c 'sleep 300 >/dev/null 2>&1 </dev/null & echo $! >> ${pidFile}; ${netcat} %h %p'`;
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, ProxyCommand: command })], knownHostsLine(target));
    const result = await pull(setup.config, `gpu:${remote}`, join(setup.dir, 'out'), setup.env);
    expect(result.code, result.stderr).toBe(0);
    const pids = (await readFile(pidFile, 'utf8')).split('\n').filter(Boolean).map(Number);
    // The main connection and at least one worker's each ran the command.
    expect(pids.length).toBeGreaterThanOrEqual(2);
    for (const pid of pids) expect(isRunning(pid), `forked ${pid}`).toBe(false);
  });
});

/** Whether a process is alive (a zombie not yet reaped by its parent counts as gone). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = /^\d+ \(.*\) (\S)/.exec(readFileSyncSafe(`/proc/${pid}/stat`))?.[1];
  return state !== undefined && state !== 'Z';
}

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

describe('logins', () => {
  it('logs in with a key held only by a real ssh-agent', async () => {
    const dir = await tempDir();
    const key = await authorisedKey(target, dir, 'agent_key');
    const agent = await startAgent(dir);
    const added = await runProcess('ssh-add', [key], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket }, timeoutMs: 10_000 });
    expect(added.code, added.stderr.toString()).toBe(0);
    await removeTempDir(key);
    const remote = await remoteTree();
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, IdentityFile: undefined, IdentitiesOnly: undefined })], knownHostsLine(target));
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, { ...setup.env, SSH_AUTH_SOCK: agent.socket });
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
  });

  it.each([
    { identitiesOnly: 'yes', code: 0 },
    { identitiesOnly: 'no', code: 5 },
  ])('IdentitiesOnly=$identitiesOnly with five other keys in the agent and MaxAuthTries 3: exit $code', async ({ identitiesOnly, code }) => {
    const strict = await extraSshd({ maxAuthTries: 3 });
    const dir = await tempDir();
    const agent = await startAgent(dir);
    const others = await Promise.all(Array.from({ length: 5 }, async (_, i) => {
      const path = join(dir, `other_${i}`);
      await generateKeyPair(path);
      return path;
    }));
    const added = await runProcess('ssh-add', others, { env: { ...process.env, SSH_AUTH_SOCK: agent.socket }, timeoutMs: 10_000 });
    expect(added.code, added.stderr.toString()).toBe(0);
    const remote = await remoteTree(strict);
    const setup = await client((kh) => [hostBlock('gpu', strict, { UserKnownHostsFile: kh, IdentitiesOnly: identitiesOnly })], knownHostsLine(strict));
    const result = await pull(setup.config, `gpu:${remote}`, join(setup.dir, 'out'), { ...setup.env, SSH_AUTH_SOCK: agent.socket });
    expect(result.code, result.stderr).toBe(code);
    if (code !== 0) expect(result.stderr).toMatch(/too many attempts[\s\S]*IdentitiesOnly yes/);
  });

  it('asks SSH_ASKPASS for an encrypted key once, for every connection of the run', async () => {
    const dir = await tempDir();
    const key = await authorisedKey(target, dir, 'encrypted_key', PASSPHRASE);
    const helper = await askpass(dir, PASSPHRASE);
    const remote = await remoteTree();
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, IdentityFile: key })], knownHostsLine(target));
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, { ...setup.env, SSH_ASKPASS: helper.program, SSH_ASKPASS_REQUIRE: 'force' });
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
    expect(await helper.calls()).toBe(1);
    await expectNoSecrets([result], [local], [key], PASSPHRASE);
  });

  it('starts the login before the command line is parsed, and asks nobody for a command that then fails', async () => {
    const dir = await tempDir();
    const key = await authorisedKey(target, dir, 'encrypted_key', PASSPHRASE);
    const helper = await askpass(dir, PASSPHRASE);
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, IdentityFile: key })], knownHostsLine(target));
    const before = await connectionsOn(target);
    const result = await pull(setup.config, 'gpu:/data', join(setup.dir, 'out'), { ...setup.env, SSH_ASKPASS: helper.program, SSH_ASKPASS_REQUIRE: 'force' }, ['--min-size', 'lots']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('--min-size');
    // The login had begun (the server saw it) when the command refused its own line; the passphrase was never asked for.
    await expect.poll(() => connectionsOn(target)).toBe(before + 1);
    expect(await helper.calls()).toBe(0);
    expect(existsSync(join(setup.dir, 'out'))).toBe(false);
  });

  it('logs every worker in with both steps of a two-key login (AuthenticationMethods publickey,publickey)', async () => {
    const twoStep = await extraSshd({ authenticationMethods: 'publickey,publickey' });
    const dir = await tempDir();
    const second = await authorisedKey(twoStep, dir, 'second_key');
    const remote = await remoteTree(twoStep);
    const setup = await client(
      (kh) => [`${hostBlock('gpu', twoStep, { UserKnownHostsFile: kh })}  IdentityFile ${second}\n`],
      knownHostsLine(twoStep),
    );
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, setup.env);
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
    // The main connection and at least one worker's, each with two keys.
    expect(await loginsOn(twoStep)).toBeGreaterThanOrEqual(2);
  });

  it('BatchMode with an encrypted key and no agent fails at once, asking nobody', async () => {
    const dir = await tempDir();
    const key = await authorisedKey(target, dir, 'encrypted_key', PASSPHRASE);
    const helper = await askpass(dir, PASSPHRASE);
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, IdentityFile: key, BatchMode: 'yes' })], knownHostsLine(target));
    const result = await pull(setup.config, 'gpu:/data', join(setup.dir, 'out'), { ...setup.env, SSH_ASKPASS: helper.program, SSH_ASKPASS_REQUIRE: 'force' });
    expect(result.code).toBe(5);
    expect(result.signal).toBeNull();
    expect(result.stderr).toContain(`${key}: it needs a passphrase and BatchMode is on`);
    expect(result.stderr).toMatch(/ssh-agent/);
    expect(await helper.calls()).toBe(0);
  });

  it('refuses a private key others can read, with the chmod hint', async () => {
    const dir = await tempDir();
    const key = await authorisedKey(target, dir, 'open_key');
    await chmod(key, 0o644);
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, IdentityFile: key })], knownHostsLine(target));
    const result = await pull(setup.config, 'gpu:/data', join(setup.dir, 'out'), setup.env);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('permissions 0644 are too open');
    expect(result.stderr).toContain(`chmod 600 ${key}`);
  });
});

describe('host keys', () => {
  it('accepts a host found in a hashed known_hosts', async () => {
    const remote = await remoteTree();
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh })], knownHostsLine(target));
    const hashed = await runProcess('ssh-keygen', ['-H', '-f', setup.knownHosts], { timeoutMs: 10_000 });
    expect(hashed.code, hashed.stderr.toString()).toBe(0);
    expect(await readFile(setup.knownHosts, 'utf8')).toMatch(/^\|1\|/);
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, setup.env);
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
  });

  it('asks for the key type known_hosts has: an ECDSA-only entry for a server that also has ed25519', async () => {
    const both = await extraSshd({ hostKeyType: 'ed25519', extraHostKeyType: 'ecdsa' });
    const remote = await remoteTree(both);
    const setup = await client((kh) => [hostBlock('gpu', both, { UserKnownHostsFile: kh })], `[127.0.0.1]:${both.port} ${both.extraHostKeyLine}\n`);
    expect(both.extraHostKeyLine).toMatch(/^ecdsa-sha2-nistp256 /);
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, setup.env);
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
  });

  it('accept-new records the key (hashed, as HashKnownHosts asks) and a strict second run accepts it', async () => {
    const remote = await remoteTree();
    const first = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, StrictHostKeyChecking: 'accept-new', HashKnownHosts: 'yes' })], '');
    const local = join(first.dir, 'out');
    const result = await pull(first.config, `gpu:${remote}`, local, first.env);
    expect(result.code, result.stderr).toBe(0);
    const recorded = await readFile(first.knownHosts, 'utf8');
    expect(recorded).toMatch(/^\|1\|\S+ ssh-ed25519 \S+\n$/);
    // OpenSSH itself finds the hashed line under the name it would look up.
    const found = await runProcess('ssh-keygen', ['-F', `[127.0.0.1]:${target.port}`, '-f', first.knownHosts], { timeoutMs: 10_000 });
    expect(found.code).toBe(0);
    expect(found.stdout.toString()).toContain(target.hostKeyLine.split(' ')[1]);

    await writeFile(first.config, hostBlock('gpu', target, { UserKnownHostsFile: first.knownHosts, StrictHostKeyChecking: 'yes' }));
    const again = await pull(first.config, `gpu:${remote}`, local, first.env);
    expect(again.code, again.stderr).toBe(0);
  });

  it.each([
    { answer: 'yes', code: 0 },
    { answer: 'no', code: 5 },
  ])('StrictHostKeyChecking ask puts an unknown key to SSH_ASKPASS: $answer gives exit $code', async ({ answer, code }) => {
    const dir = await tempDir();
    const helper = await askpass(dir, answer);
    const remote = await remoteTree();
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, StrictHostKeyChecking: 'ask' })], '');
    const result = await pull(setup.config, `gpu:${remote}`, join(setup.dir, 'out'), { ...setup.env, SSH_ASKPASS: helper.program, SSH_ASKPASS_REQUIRE: 'force' });
    expect(result.code, result.stderr).toBe(code);
    expect(await helper.calls()).toBe(1);
    const recorded = await readFile(setup.knownHosts, 'utf8');
    expect(recorded).toBe(code === 0 ? knownHostsLine(target) : '');
  });

  it('StrictHostKeyChecking no accepts and records an unknown key, but never a changed one', async () => {
    const remote = await remoteTree();
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, StrictHostKeyChecking: 'no' })], '');
    const first = await pull(setup.config, `gpu:${remote}`, join(setup.dir, 'out'), setup.env);
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(setup.knownHosts, 'utf8')).toBe(knownHostsLine(target));

    const other = await extraSshd();
    await writeFile(setup.knownHosts, `[127.0.0.1]:${target.port} ${other.hostKeyLine}\n`);
    const changed = await pull(setup.config, `gpu:${remote}`, join(setup.dir, 'out2'), setup.env);
    expect(changed.code).toBe(5);
    expect(changed.stderr).toContain(`host key of [127.0.0.1]:${target.port} changed`);
  });

  it('refuses a changed host key with exit 5, the ssh-keygen -R command and why it happens', async () => {
    const other = await extraSshd();
    const setup = await client((kh) => [hostBlock('gpu', target, { UserKnownHostsFile: kh, StrictHostKeyChecking: 'accept-new' })], `[127.0.0.1]:${target.port} ${other.hostKeyLine}\n`);
    const result = await pull(setup.config, 'gpu:/data', join(setup.dir, 'out'), setup.env);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`ssh-keygen -R '[127.0.0.1]:${target.port}'`);
    expect(result.stderr).toMatch(/instance was recreated/);
    // accept-new never overwrites a known key.
    expect(await readFile(setup.knownHosts, 'utf8')).toBe(`[127.0.0.1]:${target.port} ${other.hostKeyLine}\n`);
  });
});

describe('endpoints', () => {
  it.each([
    { resolver: 'ssh -G (HOME is the passwd home)', home: 'passwd', code: 0 },
    { resolver: 'the builtin (HOME elsewhere), which never matches Match exec', home: 'temp', code: 10 },
  ])('resolves with $resolver', async ({ home, code }) => {
    const remote = await remoteTree();
    const setup = await client(
      (kh) => [`Match exec "test -n gsync"\n  Port ${target.port}\n`, hostBlock('gpu', target, { Port: '1', UserKnownHostsFile: kh })],
      knownHostsLine(target),
    );
    const env = home === 'passwd' ? { ...setup.env, HOME: userInfo().homedir } : setup.env;
    const result = await pull(setup.config, `gpu:${remote}`, join(setup.dir, 'out'), env);
    expect(result.code, result.stderr).toBe(code);
  });

  it('takes -p, -l, -i and -o as ssh does, over the config', async () => {
    const remote = await remoteTree();
    const setup = await client(
      () => [hostBlock('gpu', target, { Port: '1', User: 'nobody-here', IdentityFile: '/nonexistent/key', UserKnownHostsFile: '/nonexistent/kh' })],
      knownHostsLine(target),
    );
    const flags = ['-p', String(target.port), '-l', target.user.name, '-i', target.identityPath, '-o', `UserKnownHostsFile=${setup.knownHosts}`];
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `gpu:${remote}`, local, setup.env, flags);
    expect(result.code, result.stderr).toBe(0);
    await expectMirrored(remote, local);
  });

  it('says a refused connection is refused, with exit 10', async () => {
    const stopped = await extraSshd();
    const setup = await client((kh) => [hostBlock('gone', stopped, { UserKnownHostsFile: kh })], knownHostsLine(stopped));
    await stopped.stop();
    const result = await pull(setup.config, 'gone:/data', join(setup.dir, 'out'), setup.env);
    expect(result.code).toBe(10);
    expect(result.stderr).toContain(`connection refused by 127.0.0.1:${stopped.port} (gone)`);
  });

  it('ConnectTimeout bounds a handshake that never starts: exit 30', async () => {
    const proxy = await startProxy(target.port, { kind: 'stall-after', bytes: 0 });
    cleanups.push(() => proxy.close());
    const setup = await client((kh) => [hostBlock('silent', target, { Port: String(proxy.port), HostKeyAlias: `[127.0.0.1]:${target.port}`, UserKnownHostsFile: kh, ConnectTimeout: '1' })], knownHostsLine(target));
    const result = await pull(setup.config, 'silent:/data', join(setup.dir, 'out'), setup.env);
    expect(result.code, result.stderr).toBe(30);
    expect(result.stderr).toMatch(/handshake with silent timed out after 1 s/);
  });

  it('ServerAliveInterval notices a link that went silent mid-transfer: exit 30, not a hang', async () => {
    const big = join(target.dataDir, `big${trees++}`);
    await writeTree(big, { 'ckpt.bin': file(32 * 1024 * 1024) }, { owner: target.user });
    const proxy = await startProxy(target.port, { kind: 'stall-after', bytes: 4 * 1024 * 1024 });
    cleanups.push(() => proxy.close());
    const setup = await client(
      (kh) => [hostBlock('flaky', target, { Port: String(proxy.port), HostKeyAlias: `[127.0.0.1]:${target.port}`, UserKnownHostsFile: kh, ServerAliveInterval: '1', ServerAliveCountMax: '2' })],
      knownHostsLine(target),
    );
    const local = join(setup.dir, 'out');
    const result = await pull(setup.config, `flaky:${big}`, local, setup.env);
    expect(result.code, result.stderr).toBe(30);
    expect(result.stderr).toMatch(/no answer to 2 keepalives/);
    expect(existsSync(join(local, 'ckpt.bin'))).toBe(false);
  });

  it('a server that sends its banner and hangs up mid-login gives exit 10, not a hang', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.end('SSH-2.0-OpenSSH_9.2 closing\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const setup = await client((kh) => [hostBlock('rude', target, { Port: String(port), UserKnownHostsFile: kh, ConnectTimeout: '30' })], '');
    const result = await pull(setup.config, 'rude:/data', join(setup.dir, 'out'), setup.env);
    expect(result.signal).toBeNull();
    expect(result.code, result.stderr).toBe(10);
    expect(result.stderr).toMatch(/rude closed the connection before the login finished|SSH connection to rude failed/);
  });

  it('Ctrl+C while connecting stops at once with exit 20', async () => {
    const sockets = new Set<Socket>();
    let connected: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (connected = resolve));
    const server = createServer((socket) => {
      sockets.add(socket);
      connected();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const setup = await client((kh) => [hostBlock('mute', target, { Port: String(port), UserKnownHostsFile: kh, ConnectTimeout: '60' })], '');
    const child = spawnGsync(['pull', '-F', setup.config, 'mute:/data', join(setup.dir, 'out')], { env: setup.env });
    cleanups.push(async () => killGroup(child));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await reached;
    child.kill('SIGINT');
    expect(await exited).toBe(20);
    expect(stderr).toContain('interrupted while connecting to mute');
  });

  it('a connection opened ahead of the login says who it is, and is closed if the login is given up before it starts', async () => {
    const sockets = new Set<Socket>();
    let received = '';
    let hungUp: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (hungUp = resolve));
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.once('close', () => hungUp());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const setup = await client((kh) => [hostBlock('mute', target, { Port: String(port), UserKnownHostsFile: kh })], '');
    const spec = resolveConnectSpec(parseTarget('mute:/data'), { configFile: setup.config, env: setup.env });
    const openedAhead = openTcpAhead(spec);
    await openedAhead;
    const stopped = new AbortController();
    stopped.abort();
    await expect(openSession(spec, { env: setup.env, signal: stopped.signal, openedAhead })).rejects.toThrow('interrupted while connecting to mute');
    await closed;
    expect(received).toBe(`SSH-2.0-${CLIENT_SOFTWARE}\r\n`);
  });

  it('says plainly that a CertificateFile login cannot work with gsync', async () => {
    const dir = await tempDir();
    const key = join(dir, 'unauthorised');
    await generateKeyPair(key);
    const setup = await client((kh) => [hostBlock('certs', target, { UserKnownHostsFile: kh, IdentityFile: key, CertificateFile: `${key}-cert.pub` })], knownHostsLine(target));
    const result = await pull(setup.config, 'certs:/data', join(setup.dir, 'out'), setup.env);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/CertificateFile .*cannot log in with SSH certificates/);
  });

  it('explains an endpoint without an SFTP subsystem (a shell-only relay), with exit 5', async () => {
    const shellOnly = await extraSshd({ sftp: false });
    const setup = await client((kh) => [hostBlock('relay', shellOnly, { UserKnownHostsFile: kh })], knownHostsLine(shellOnly));
    const result = await pull(setup.config, 'relay:/data', join(setup.dir, 'out'), setup.env);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/no SFTP subsystem/);
    expect(result.stderr).toMatch(/shell only.*use the direct TCP endpoint/);
  });
});

describe('secrets', () => {
  it('no failing login prints a passphrase or key material, nor stores one', async () => {
    const dir = await tempDir();
    const encrypted = await authorisedKey(target, dir, 'encrypted_key', PASSPHRASE);
    const open = await authorisedKey(target, dir, 'open_key');
    await chmod(open, 0o644);
    const wrong = await askpass(dir, `${PASSPHRASE} but wrong`);
    const right = await askpass(await tempDir(), PASSPHRASE);
    const other = await extraSshd();
    const shellOnly = await extraSshd({ sftp: false });
    const setup = await client(
      (kh) => [
        hostBlock('enc', target, { UserKnownHostsFile: kh, IdentityFile: encrypted }),
        hostBlock('batch', target, { UserKnownHostsFile: kh, IdentityFile: encrypted, BatchMode: 'yes' }),
        hostBlock('open', target, { UserKnownHostsFile: kh, IdentityFile: open }),
        hostBlock('changed', other, { UserKnownHostsFile: kh, IdentityFile: encrypted, HostKeyAlias: 'changed-alias' }),
        hostBlock('relay', shellOnly, { UserKnownHostsFile: kh, IdentityFile: encrypted }),
      ],
      `${knownHostsLine(target)}changed-alias ${target.hostKeyLine}\n${knownHostsLine(shellOnly)}`,
    );
    await shellOnly.authorizeKey((await readFile(`${encrypted}.pub`, 'utf8')).trim());
    const force = { ...setup.env, SSH_ASKPASS_REQUIRE: 'force' };
    const runs = [
      await pull(setup.config, 'enc:/data', join(setup.dir, 'a'), { ...force, SSH_ASKPASS: wrong.program }),
      await pull(setup.config, 'batch:/data', join(setup.dir, 'b'), { ...force, SSH_ASKPASS: right.program }),
      await pull(setup.config, 'open:/data', join(setup.dir, 'c'), setup.env),
      await pull(setup.config, 'changed:/data', join(setup.dir, 'd'), { ...force, SSH_ASKPASS: right.program }),
      await pull(setup.config, 'relay:/data', join(setup.dir, 'e'), { ...force, SSH_ASKPASS: right.program }),
      await pull(setup.config, `enc:${await remoteTree()}`, join(setup.dir, 'f'), { ...force, SSH_ASKPASS: right.program }),
    ];
    expect(runs.map((r) => r.code)).toStrictEqual([5, 5, 5, 5, 5, 0]);
    // The compiled-code cache the runs kept in HOME is searched too (it holds ssh2's key parser as code).
    const codeCache = join(setup.env.HOME!, '.cache', 'gsync');
    expect((await filesUnder(codeCache)).length).toBeGreaterThan(0);
    await expectNoSecrets(runs, [setup.dir], [encrypted, open], PASSPHRASE, codeCache);
  });
});

/**
 * Neither the passphrase nor any line of a private key's body appears in output or in any file
 * the runs wrote, nor a PEM header outside `codeOnly`: there, files hold compiled library code,
 * whose key parser has the header as a literal.
 */
async function expectNoSecrets(runs: readonly GsyncResult[], dirs: readonly string[], keys: readonly string[], passphrase: string, codeOnly?: string): Promise<void> {
  const secrets = [passphrase];
  for (const key of keys) {
    const body = (await readFile(key, 'utf8')).split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
    secrets.push(...body);
  }
  const haystacks = runs.flatMap((r) => [{ text: r.stdout, code: false }, { text: r.stderr, code: false }]);
  for (const dir of dirs) {
    for (const path of await filesUnder(dir)) {
      if (path.includes('askpass') || path.endsWith('.pub') || keys.includes(path)) continue;
      haystacks.push({ text: (await readFile(path)).toString('latin1'), code: codeOnly !== undefined && path.startsWith(`${codeOnly}/`) });
    }
  }
  for (const { text, code } of haystacks) {
    for (const needle of code ? secrets : [...secrets, 'PRIVATE KEY']) expect(text.includes(needle), `found "${needle.slice(0, 12)}…"`).toBe(false);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A real ssh-agent in the foreground on its own socket, stopped after the test. */
async function startAgent(dir: string): Promise<{ socket: string }> {
  const socket = join(dir, 'agent.sock');
  const child: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', () => resolve());
  });
  return { socket };
}
