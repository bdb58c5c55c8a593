import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aliasWarning, cronEnvironment, homeWarning, loginWarning } from '../../src/cron/cronWarnings.js';
import { resolveConnectSpec } from '../../src/ssh/config.js';
import { generateKeyPair } from '../support/sshKeys.js';

let dir: string;
let agent: Server | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-unit-cronwarn-'));
});
afterEach(async () => {
  await new Promise<void>((resolve) => (agent ? agent.close(() => resolve()) : resolve()));
  agent = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A key pair made by ssh-keygen (private 0600, public beside it), with a passphrase when given.
 * Not ssh2's generateKeyPairSync: about one ed25519 key in 256 it writes is malformed (a public
 * key whose first byte is zero comes out 31 bytes long), and the test would fail by chance.
 */
async function writeKey(name: string, options: { passphrase?: string; mode?: number } = {}): Promise<string> {
  const path = join(dir, name);
  await generateKeyPair(path, options.passphrase === undefined ? {} : { passphrase: options.passphrase });
  if (options.mode !== undefined) chmodSync(path, options.mode);
  return path;
}

/** The job's login as cron will see it: this config, resolved under cron's environment. */
function cronSpec(hostBlock: string[], env: NodeJS.ProcessEnv = cronEnvironment(dir, 'me'), host = 'gpu') {
  const config = join(dir, 'config');
  writeFileSync(config, ['Host gpu', '  HostName 127.0.0.1', ...hostBlock, ''].join('\n'));
  return resolveConnectSpec({ host }, { configFile: config, env, sshClient: null, home: dir, systemConfigFile: null });
}

/** A listening unix socket where an agent would be. */
async function agentSocket(): Promise<string> {
  const path = join(dir, 'agent.sock');
  agent = createServer();
  await new Promise<void>((resolve) => agent?.listen(path, resolve));
  return path;
}

describe('loginWarning: can the cron job log in by itself?', () => {
  it('says nothing for a key without a passphrase', async () => {
    expect(loginWarning(cronSpec([`  IdentityFile ${await writeKey('plain')}`]))).toBeUndefined();
  });

  it('warns about a key with a passphrase: no terminal and no agent under cron', async () => {
    const key = await writeKey('locked', { passphrase: 'correct horse' });
    const warning = loginWarning(cronSpec([`  IdentityFile ${key}`]));
    expect(warning?.message).toBe(
      `the key ${key} needs a passphrase, and a cron job has no terminal to ask it on and no ssh-agent (cron does not pass SSH_AUTH_SOCK on): each run will fail to log in to gpu (exit 5)`,
    );
    expect(warning?.hint).toMatch(/key without a passphrase.*or set IdentityAgent to an agent socket at a fixed path/);
    expect(JSON.stringify(warning)).not.toContain('correct horse');
  });

  it('says nothing when a key without a passphrase comes after one with', async () => {
    expect(loginWarning(cronSpec([`  IdentityFile ${await writeKey('locked', { passphrase: 'pw' })}`, `  IdentityFile ${await writeKey('plain')}`]))).toBeUndefined();
  });

  it("warns when this shell's agent holds the key: cron does not pass SSH_AUTH_SOCK on", async () => {
    const socket = await agentSocket();
    const block = [`  IdentityFile ${await writeKey('locked', { passphrase: 'pw' })}`];
    // Resolved with this shell's environment, the agent would be used...
    expect(cronSpec(block, { ...cronEnvironment(dir, 'me'), SSH_AUTH_SOCK: socket }).agentSocket).toBe(socket);
    // ...but cron's has no SSH_AUTH_SOCK.
    expect(loginWarning(cronSpec(block))?.message).toMatch(/needs a passphrase/);
  });

  it('says nothing when IdentityAgent names an agent socket by path that is there', async () => {
    const socket = await agentSocket();
    expect(loginWarning(cronSpec([`  IdentityFile ${await writeKey('locked', { passphrase: 'pw' })}`, `  IdentityAgent ${socket}`]))).toBeUndefined();
  });

  it('warns when IdentityAgent names a socket that is not there', async () => {
    const block = [`  IdentityFile ${await writeKey('locked', { passphrase: 'pw' })}`, `  IdentityAgent ${join(dir, 'gone.sock')}`];
    expect(loginWarning(cronSpec(block))?.message).toMatch(/needs a passphrase/);
  });

  it('warns when no key file exists, naming the first few it looked for', () => {
    const warning = loginWarning(cronSpec([]));
    expect(warning?.message).toMatch(/^gsync found no key file it can use for gpu \(tried .*\/\.ssh\/id_rsa, .*\/\.ssh\/id_ecdsa, .*\/\.ssh\/id_ecdsa_sk and 4 more\)/);
  });

  it('counts a key ssh would refuse for its open permissions as none', async () => {
    const warning = loginWarning(cronSpec([`  IdentityFile ${await writeKey('open', { mode: 0o644 })}`]));
    expect(warning?.message).toMatch(/found no key file it can use/);
  });

  it('warns when PubkeyAuthentication is off', async () => {
    expect(loginWarning(cronSpec([`  IdentityFile ${await writeKey('plain')}`, '  PubkeyAuthentication no']))?.message).toMatch(/PubkeyAuthentication is off/);
  });
});

describe("homeWarning: without -F, cron's HOME picks the ssh config", () => {
  it('warns when $HOME is not the home directory cron will set', () => {
    expect(homeWarning(false, '/tmp/elsewhere', '/home/me')).toStrictEqual({
      message: 'cron runs the job with HOME=/home/me, not /tmp/elsewhere: it will read /home/me/.ssh/config, not /tmp/elsewhere/.ssh/config',
      hint: 'to use /tmp/elsewhere/.ssh/config, add again with -F /tmp/elsewhere/.ssh/config',
    });
  });
  it('says nothing with -F, or when the homes agree', () => {
    expect(homeWarning(true, '/tmp/elsewhere', '/home/me')).toBeUndefined();
    expect(homeWarning(false, '/home/me', '/home/me')).toBeUndefined();
  });
});

describe('aliasWarning: does the job name a host that exists?', () => {
  const resolving = (names: string[]) => (host: string) => Promise.resolve(names.includes(host));

  it('warns of an alias no Host line names and no name server knows, naming the config file', async () => {
    const warning = await aliasWarning(cronSpec([], undefined, 'gpu-typo'), resolving([]));
    expect(warning?.message).toBe(`no Host entry names 'gpu-typo' in ${join(dir, 'config')}, and no host of that name resolves: each run will fail to connect (exit 1)`);
    expect(warning?.hint).toBe(`check the spelling, or add a Host block for gpu-typo to ${join(dir, 'config')}`);
  });

  it('says nothing of an alias the config names, nor of a plain host name that resolves', async () => {
    expect(await aliasWarning(cronSpec([]), resolving([]))).toBeUndefined();
    expect(await aliasWarning(cronSpec([], undefined, 'box.example.org'), resolving(['box.example.org']))).toBeUndefined();
  });
});
