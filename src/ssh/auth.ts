import { readFileSync, statSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthHandlerMiddleware, IdentityCallback, KeyboardInteractiveCallback, ParsedKey, Prompt, PublicKeyEntry } from 'ssh2';
import { printable } from '../core/printable.js';
import { GsyncError } from '../errors/GsyncError.js';
import type { Prompter } from './prompt.js';
import type { ConnectSpec } from './spec.js';

/**
 * The login that worked, kept in memory so every worker connection logs in the same way without
 * asking again. Holds secrets: it goes to worker threads and nowhere else (never a message, log or file).
 */
export type Credential =
  | { readonly kind: 'agent'; readonly socket: string; readonly keys: readonly string[] }
  | { readonly kind: 'key'; readonly file: string; readonly key: Buffer; readonly passphrase: string | undefined }
  | { readonly kind: 'password'; readonly password: string }
  | { readonly kind: 'keyboard-interactive'; readonly responses: readonly string[] };

/** A login gsync did not try, and why; `fix` is what the user can do about it. */
export interface PassedOver {
  readonly what: string;
  readonly why: string;
  readonly fix?: string;
}

/** Drives ssh2's authHandler, and says afterwards what worked or what was tried. */
export interface Authenticator {
  readonly handler: AuthHandlerMiddleware;
  /**
   * After 'ready': the logins that worked, in order (more than one when the server asks for
   * several, as with `AuthenticationMethods publickey,password`).
   */
  succeeded(): readonly Credential[];
  /** What was offered, by name (a key file, the agent, password): never a secret. */
  tried(): readonly string[];
  passedOver(): readonly PassedOver[];
  /** Set when the user cancelled a prompt (Ctrl+C): the login must stop, not go on to the next method. */
  cancelled(): GsyncError | undefined;
}

/** One way to log in, made ready (and prompted for) only when its turn comes. */
interface Attempt {
  readonly method: 'publickey' | 'password' | 'keyboard-interactive';
  readonly label: string;
  prepare(): Promise<{ method: AnyAuthMethod; credential: Credential } | undefined>;
}

const { parseKey } = ssh2.utils;

const PASSWORD_PROMPTS = 3;

/**
 * Plans the logins (see planAttempts); a passphrase or password is asked only when its turn
 * comes. With remembered credentials (a worker's connection), only those, in order.
 */
export async function prepareAuth(spec: ConnectSpec, prompter: Prompter | undefined, remembered?: readonly Credential[]): Promise<Authenticator> {
  const passedOver: PassedOver[] = [];
  const attempts = remembered ? remembered.map((c) => replay(spec, c)) : await planAttempts(spec, prompter, passedOver);
  const tried: string[] = [];
  const accepted: Credential[] = [];
  let last: Credential | undefined;
  let cancelled: GsyncError | undefined;
  let index = 0;
  const nextMethod = async (allowed: readonly string[] | null): Promise<AnyAuthMethod | false> => {
    for (let attempt = attempts[index++]; attempt && !cancelled; attempt = attempts[index++]) {
      if (allowed && !allowed.includes(attempt.method)) continue;
      try {
        const ready = await attempt.prepare();
        if (!ready) continue;
        tried.push(attempt.label);
        last = ready.credential;
        return ready.method;
      } catch (error) {
        // Ctrl+C at a prompt ends the login; any other prompt failure passes over this method only, as ssh does.
        if (error instanceof GsyncError && error.kind === 'interrupted') cancelled = error;
        else passedOver.push({ what: attempt.label, why: error instanceof Error ? error.message : String(error) });
      }
    }
    if (!prompter && !remembered) passedOver.push(...unaskable(spec, allowed));
    return false;
  };
  const handler: AuthHandlerMiddleware = (allowed, partialSuccess, next) => {
    // Partial success: the last method was accepted and the server wants another one too.
    if (partialSuccess && last) accepted.push(last);
    // ssh2 takes `false` for "no more methods"; its types do not say so.
    void nextMethod(allowed).then((method) => next(method as AnyAuthMethod));
  };
  return {
    handler,
    succeeded: () => (last ? [...accepted, last] : accepted),
    tried: () => tried,
    passedOver: () => passedOver,
    cancelled: () => cancelled,
  };
}

/** Password and keyboard-interactive logins the server would take, when nobody can be asked. */
function unaskable(spec: ConnectSpec, allowed: readonly string[] | null): PassedOver[] {
  const fix = 'set up a key (in ssh-agent for cron), or run from a terminal or with SSH_ASKPASS';
  const why = spec.batchMode ? 'BatchMode is on' : 'there is no terminal and no SSH_ASKPASS';
  const methods: Array<[string, boolean]> = [
    ['keyboard-interactive', spec.kbdInteractiveAuthentication],
    ['password', spec.passwordAuthentication],
  ];
  return methods.filter(([method, enabled]) => enabled && allowed?.includes(method)).map(([what]) => ({ what, why: `${why}, so nobody can type it`, fix }));
}

/**
 * The logins to try, in order: configured keys the agent holds (ssh interleaves them with the
 * agent's others, in agent order; putting them first is kinder to MaxAuthTries), the agent's
 * other keys (not with IdentitiesOnly), the remaining key files, then keyboard-interactive and
 * password when someone can answer.
 */
async function planAttempts(spec: ConnectSpec, prompter: Prompter | undefined, passedOver: PassedOver[]): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  if (spec.pubkeyAuthentication) {
    const files = spec.identityFiles.flatMap((file) => loadKeyFile(file) ?? []);
    const agentKeys = spec.agentSocket ? await listAgent(spec.agentSocket) : [];
    const configured = new Set(files.flatMap((f) => f.publicKey ?? []));
    const inAgent = agentKeys.filter((k) => configured.has(k));
    const others = agentKeys.filter((k) => !configured.has(k));
    if (spec.agentSocket && inAgent.length > 0) attempts.push(agentAttempt(spec, spec.agentSocket, inAgent));
    if (spec.agentSocket && others.length > 0 && !spec.identitiesOnly) attempts.push(agentAttempt(spec, spec.agentSocket, others));
    for (const file of files) {
      // The agent signs for a key it holds: only the public half of the file was needed.
      if (file.publicKey && inAgent.includes(file.publicKey)) continue;
      if (file.refused) passedOver.push(file.refused);
      else attempts.push(keyAttempt(spec, file, prompter, passedOver));
    }
  }
  if (prompter && spec.kbdInteractiveAuthentication) attempts.push(keyboardAttempt(spec, prompter));
  if (prompter && spec.passwordAuthentication) {
    for (let i = 0; i < PASSWORD_PROMPTS; i++) attempts.push(passwordAttempt(spec, prompter));
  }
  return attempts;
}

export interface KeyFile {
  readonly file: string;
  readonly data: Buffer;
  readonly encrypted: boolean;
  /** base64 public blob, when the key or its `.pub` tells it. */
  readonly publicKey: string | undefined;
  /** Set when the file may not be used itself (ssh's rules), though the agent may hold its key. */
  readonly refused: PassedOver | undefined;
}

/**
 * Reads a key file as ssh does: a missing one is passed over quietly (undefined); one that is
 * there but cannot be read is passed over saying why, or the failed login would not name it.
 */
export function loadKeyFile(file: string): KeyFile | undefined {
  let data: Buffer;
  let mode: number;
  try {
    const stat = statSync(file);
    mode = stat.uid === process.getuid?.() ? stat.mode & 0o777 : 0o600;
    data = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    const refused = { what: file, why: `cannot be read (${code ?? 'error'})`, fix: 'make it a file the user running gsync may read' };
    return { file, data: Buffer.alloc(0), encrypted: false, publicKey: undefined, refused };
  }
  const parsed = parseKey(data);
  const encrypted = parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
  const publicKey = publicKeyOf(file, parsed);
  let refused: PassedOver | undefined;
  if ((mode & 0o077) !== 0) {
    const shown = mode.toString(8).padStart(4, '0');
    refused = { what: file, why: `permissions ${shown} are too open, so ssh and gsync ignore this key`, fix: `chmod 600 ${file}` };
  } else if (parsed instanceof Error && !encrypted) {
    refused = { what: file, why: 'not a private key ssh2 can read' };
  }
  return { file, data, encrypted, publicKey, refused };
}

/** The key's public blob (base64), from the key itself or, for an encrypted one, from `<file>.pub`. */
function publicKeyOf(file: string, parsed: ParsedKey | Error): string | undefined {
  if (!(parsed instanceof Error)) return parsed.getPublicSSH().toString('base64');
  try {
    const pub = parseKey(readFileSync(`${file}.pub`));
    return pub instanceof Error ? undefined : pub.getPublicSSH().toString('base64');
  } catch {
    return undefined;
  }
}

function listAgent(socket: string): Promise<string[]> {
  return new Promise((resolve) => {
    new ssh2.OpenSSHAgent(socket).getIdentities((error, keys) => {
      // An agent that cannot be reached is passed over, as ssh does.
      resolve(error || !keys ? [] : keys.flatMap((k) => blobOf(k) ?? []));
    });
  });
}

/** The agent, showing only some of its keys: those the config names, or the rest. */
class SelectedAgent extends ssh2.OpenSSHAgent {
  readonly #keys: ReadonlySet<string>;

  constructor(socket: string, keys: readonly string[]) {
    super(socket);
    this.#keys = new Set(keys);
  }

  override getIdentities(callback: IdentityCallback<ParsedKey>): void {
    super.getIdentities((error, keys) => callback(error, keys?.filter((k) => this.#keys.has(blobOf(k) ?? ''))));
  }
}

/** An agent key's public blob, base64 (OpenSSH's agent hands back parsed keys). */
function blobOf(entry: ParsedKey | PublicKeyEntry): string | undefined {
  return 'getPublicSSH' in entry ? entry.getPublicSSH().toString('base64') : undefined;
}

function agentAttempt(spec: ConnectSpec, socket: string, keys: readonly string[]): Attempt {
  return {
    method: 'publickey',
    label: `ssh-agent (${keys.length} key${keys.length === 1 ? '' : 's'})`,
    prepare: () =>
      Promise.resolve({
        method: { type: 'agent', username: spec.user, agent: new SelectedAgent(socket, keys) },
        credential: { kind: 'agent', socket, keys },
      }),
  };
}

function keyAttempt(spec: ConnectSpec, file: KeyFile, prompter: Prompter | undefined, passedOver: PassedOver[]): Attempt {
  return {
    method: 'publickey',
    label: file.file,
    prepare: async () => {
      let passphrase: string | undefined;
      if (file.encrypted) {
        passphrase = await askPassphrase(file, prompter);
        if (passphrase === undefined) {
          passedOver.push(
            prompter
              ? { what: file.file, why: 'no valid passphrase was given' }
              : {
                  what: file.file,
                  why: `it needs a passphrase and ${spec.batchMode ? 'BatchMode is on' : 'there is no terminal and no SSH_ASKPASS'}, so nobody can be asked`,
                  fix: `add the key to ssh-agent first (ssh-add ${file.file})`,
                },
          );
          return undefined;
        }
      }
      return {
        method: { type: 'publickey', username: spec.user, key: file.data, ...(passphrase === undefined ? {} : { passphrase }) },
        credential: { kind: 'key', file: file.file, key: file.data, passphrase },
      };
    },
  };
}

/** Up to three tries, as ssh gives; an empty answer gives up on this key. */
async function askPassphrase(file: { file: string; data: Buffer }, prompter: Prompter | undefined): Promise<string | undefined> {
  if (!prompter) return undefined;
  for (let i = 0; i < PASSWORD_PROMPTS; i++) {
    const answer = await prompter.ask(`Enter passphrase for key '${file.file}': `, { echo: false });
    if (answer === '') return undefined;
    if (!(parseKey(file.data, answer) instanceof Error)) return answer;
  }
  return undefined;
}

function passwordAttempt(spec: ConnectSpec, prompter: Prompter): Attempt {
  return {
    method: 'password',
    label: 'password',
    prepare: async () => {
      const password = await prompter.ask(`${spec.user}@${spec.host}'s password: `, { echo: false });
      return { method: { type: 'password', username: spec.user, password }, credential: { kind: 'password', password } };
    },
  };
}

function keyboardAttempt(spec: ConnectSpec, prompter: Prompter): Attempt {
  return {
    method: 'keyboard-interactive',
    label: 'keyboard-interactive',
    prepare: () => {
      const responses: string[] = [];
      const credential: Credential = { kind: 'keyboard-interactive', responses };
      const prompt = (_name: string, _instructions: string, _lang: string, prompts: Prompt[], finish: KeyboardInteractiveCallback): void => {
        (async () => {
          const answers: string[] = [];
          for (const p of prompts) answers.push(await prompter.ask(printable(p.prompt, 200), { echo: p.echo ?? false }));
          responses.push(...answers);
          return answers;
        })().then(finish, () => finish([]));
      };
      return Promise.resolve({ method: { type: 'keyboard-interactive', username: spec.user, prompt }, credential });
    },
  };
}

/** A worker's connection: the credential that worked for the main one, and nothing else. */
function replay(spec: ConnectSpec, credential: Credential): Attempt {
  const ready = (method: AnyAuthMethod): Attempt['prepare'] => () => Promise.resolve({ method, credential });
  switch (credential.kind) {
    case 'agent':
      return {
        method: 'publickey',
        label: 'ssh-agent',
        prepare: ready({ type: 'agent', username: spec.user, agent: new SelectedAgent(credential.socket, credential.keys) }),
      };
    case 'key':
      return {
        method: 'publickey',
        label: credential.file,
        // A worker receives the key as a plain Uint8Array (structured clone).
        prepare: ready({ type: 'publickey', username: spec.user, key: Buffer.from(credential.key), ...(credential.passphrase === undefined ? {} : { passphrase: credential.passphrase }) }),
      };
    case 'password':
      return { method: 'password', label: 'password', prepare: ready({ type: 'password', username: spec.user, password: credential.password }) };
    case 'keyboard-interactive': {
      const prompt = (_n: string, _i: string, _l: string, prompts: Prompt[], finish: KeyboardInteractiveCallback): void =>
        finish(prompts.map((_, i) => credential.responses[i] ?? ''));
      return { method: 'keyboard-interactive', label: 'keyboard-interactive', prepare: ready({ type: 'keyboard-interactive', username: spec.user, prompt }) };
    }
  }
}
