import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { AnyAuthMethod, KeyboardInteractiveCallback, Prompt } from 'ssh2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { prepareAuth, type Authenticator } from '../../src/ssh/auth.js';
import type { Prompter } from '../../src/ssh/prompt.js';
import type { ConnectSpec } from '../../src/ssh/spec.js';

function spec(overrides: Partial<ConnectSpec> = {}): ConnectSpec {
  return {
    alias: 'gpu',
    host: 'gpu.example.com',
    port: 22,
    user: 'alice',
    identityFiles: [],
    identitiesOnly: false,
    agentSocket: undefined,
    certificateFiles: [],
    knownHostsFiles: [],
    globalKnownHostsFiles: [],
    strictHostKeyChecking: 'yes',
    hostKeyAlias: undefined,
    hashKnownHosts: false,
    batchMode: false,
    pubkeyAuthentication: true,
    passwordAuthentication: true,
    kbdInteractiveAuthentication: true,
    connectTimeoutMs: 30_000,
    keepaliveIntervalMs: 15_000,
    keepaliveCountMax: 3,
    route: { kind: 'direct' },
    ciphers: undefined,
    kexAlgorithms: undefined,
    hostKeyAlgorithms: undefined,
    aliasKnown: true,
    ...overrides,
  };
}

/** A prompter that answers from a list and records the questions. */
function scripted(answers: string[]): Prompter & { questions: string[] } {
  const questions: string[] = [];
  return {
    via: 'test',
    questions,
    ask: (question) => {
      questions.push(question);
      const answer = answers.shift();
      return answer === undefined ? Promise.reject(new Error('no more answers')) : Promise.resolve(answer);
    },
  };
}

/** What the handler offers next, given the methods the server still allows. */
function offer(auth: Authenticator, allowed: string[] | null, partial = false): Promise<AnyAuthMethod | false> {
  return new Promise((resolve) => auth.handler(allowed as never, partial, (method) => resolve(method as AnyAuthMethod | false)));
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-auth-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(name: string, passphrase = ''): string {
  const path = join(dir, name);
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', path], { stdio: 'ignore' });
  expect(made.status).toBe(0);
  return path;
}

describe('prepareAuth', () => {
  it('asks for a password only when its turn comes, once per try, and a worker replays it without asking', async () => {
    const prompter = scripted(['hunter2']);
    const auth = await prepareAuth(spec({ pubkeyAuthentication: false, kbdInteractiveAuthentication: false }), prompter);
    expect(prompter.questions).toStrictEqual([]);
    const method = await offer(auth, ['password']);
    expect(method).toMatchObject({ type: 'password', username: 'alice', password: 'hunter2' });
    expect(prompter.questions).toStrictEqual(["alice@gpu.example.com's password: "]);
    expect(auth.succeeded()).toStrictEqual([{ kind: 'password', password: 'hunter2' }]);
    expect(auth.tried()).toStrictEqual(['password']);

    const nobody = scripted([]);
    const worker = await prepareAuth(spec(), nobody, auth.succeeded());
    expect(await offer(worker, ['password'])).toMatchObject({ type: 'password', password: 'hunter2' });
    expect(nobody.questions).toStrictEqual([]);
  });

  it('answers keyboard-interactive prompts through the prompter, and a worker replays the answers', async () => {
    const prompter = scripted(['123456']);
    const auth = await prepareAuth(spec({ pubkeyAuthentication: false, passwordAuthentication: false }), prompter);
    const method = await offer(auth, ['keyboard-interactive']);
    expect(method).toMatchObject({ type: 'keyboard-interactive' });
    const prompts: Prompt[] = [{ prompt: 'Verification code: \x1b[2J', echo: false }];
    const answered = await new Promise<string[]>((resolve) =>
      (method as { prompt: (n: string, i: string, l: string, p: Prompt[], f: KeyboardInteractiveCallback) => void }).prompt('', '', '', prompts, resolve),
    );
    expect(answered).toStrictEqual(['123456']);
    // Server text reaches the prompt escaped.
    expect(prompter.questions).toStrictEqual(['Verification code: \\u001b[2J']);

    const worker = await prepareAuth(spec(), undefined, auth.succeeded());
    const replayed = await offer(worker, ['keyboard-interactive']);
    const again = await new Promise<string[]>((resolve) =>
      (replayed as { prompt: (n: string, i: string, l: string, p: Prompt[], f: KeyboardInteractiveCallback) => void }).prompt('', '', '', prompts, resolve),
    );
    expect(again).toStrictEqual(['123456']);
  });

  it('offers nothing that needs an answer when nobody can be asked, and says why', async () => {
    const auth = await prepareAuth(spec({ batchMode: true }), undefined);
    expect(await offer(auth, ['publickey', 'password', 'keyboard-interactive'])).toBe(false);
    expect(auth.passedOver().map((p) => p.what)).toStrictEqual(['keyboard-interactive', 'password']);
    expect(auth.passedOver()[0]?.why).toMatch(/BatchMode is on/);
  });

  it('asks a passphrase for an encrypted key, up to three times, and passes over a wrong one', async () => {
    const key = keyFile('enc', 'right passphrase');
    const wrong = scripted(['wrong 1', 'wrong 2', 'wrong 3']);
    const failing = await prepareAuth(spec({ identityFiles: [key], passwordAuthentication: false, kbdInteractiveAuthentication: false }), wrong);
    expect(await offer(failing, null)).toBe(false);
    expect(wrong.questions).toHaveLength(3);
    expect(failing.passedOver()).toStrictEqual([{ what: key, why: 'no valid passphrase was given' }]);

    const right = scripted(['wrong', 'right passphrase']);
    const working = await prepareAuth(spec({ identityFiles: [key] }), right);
    expect(await offer(working, null)).toMatchObject({ type: 'publickey', passphrase: 'right passphrase' });
    expect(right.questions).toStrictEqual([`Enter passphrase for key '${key}': `, `Enter passphrase for key '${key}': `]);
  });

  it('a failing prompt passes over that key; one cancelled with Ctrl+C ends the login', async () => {
    const key = keyFile('enc2', 'pw');
    const failing: Prompter = { via: 'test', ask: () => Promise.reject(new Error('SSH_ASKPASS gave no answer')) };
    const auth = await prepareAuth(spec({ identityFiles: [key], passwordAuthentication: false, kbdInteractiveAuthentication: false }), failing);
    // An ordinary prompt failure passes over the key and goes on to the next method.
    expect(await offer(auth, ['publickey', 'password'])).toBe(false);
    expect(auth.cancelled()).toBeUndefined();
    expect(auth.passedOver()).toStrictEqual([{ what: key, why: 'SSH_ASKPASS gave no answer' }]);

    const ctrlC: Prompter = { via: 'test', ask: () => Promise.reject(new GsyncError('interrupted', 'prompt cancelled with Ctrl+C')) };
    const stopped = await prepareAuth(spec({ identityFiles: [key] }), ctrlC);
    expect(await offer(stopped, null)).toBe(false);
    expect(stopped.cancelled()?.kind).toBe('interrupted');
  });

  it('passes over a key file it cannot read, saying why; a missing one quietly', async () => {
    const unreadable = join(dir, 'a-directory');
    mkdirSync(unreadable);
    const auth = await prepareAuth(spec({ identityFiles: [unreadable, join(dir, 'missing')] }), undefined);
    expect(await offer(auth, ['publickey'])).toBe(false);
    expect(auth.passedOver()).toStrictEqual([{ what: unreadable, why: 'cannot be read (EISDIR)', fix: 'make it a file the user running gsync may read' }]);
  });

  it('refuses a key file others can read, naming the chmod that fixes it', async () => {
    const key = keyFile('open');
    chmodSync(key, 0o644);
    const auth = await prepareAuth(spec({ identityFiles: [key] }), undefined);
    expect(await offer(auth, ['publickey'])).toBe(false);
    expect(auth.passedOver()).toStrictEqual([{ what: key, why: 'permissions 0644 are too open, so ssh and gsync ignore this key', fix: `chmod 600 ${key}` }]);
  });

  it('replays the whole chain of a multi-step login, in order', async () => {
    const key = keyFile('plain');
    const prompter = scripted(['pw']);
    const auth = await prepareAuth(spec({ identityFiles: [key], kbdInteractiveAuthentication: false }), prompter);
    expect(await offer(auth, null)).toMatchObject({ type: 'publickey' });
    // The server accepted the key and wants a password as well.
    expect(await offer(auth, ['password'], true)).toMatchObject({ type: 'password', password: 'pw' });
    expect(auth.succeeded().map((c) => c.kind)).toStrictEqual(['key', 'password']);
  });
});
