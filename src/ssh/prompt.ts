import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import tty from 'node:tty';
import { GsyncError } from '../errors/GsyncError.js';

/** Asks the user for a secret or a yes/no answer; never echoes a secret, never logs one. */
export interface Prompter {
  /** How the answer is read, for messages: 'terminal' or 'SSH_ASKPASS'. */
  readonly via: string;
  ask(question: string, options: { readonly echo: boolean }): Promise<string>;
}

/**
 * Who can answer a prompt, chosen as OpenSSH's read_passphrase does: SSH_ASKPASS when
 * SSH_ASKPASS_REQUIRE says force or prefer, or when there is no terminal; otherwise the
 * controlling terminal; nobody under BatchMode or when neither exists (cron). Unlike ssh,
 * DISPLAY is not required for SSH_ASKPASS: headless helpers are common here.
 */
export function choosePrompter(env: NodeJS.ProcessEnv, batchMode: boolean, terminal: boolean = hasTerminal()): Prompter | undefined {
  if (batchMode) return undefined;
  const askpass = env.SSH_ASKPASS || undefined;
  const askpassRequire = env.SSH_ASKPASS_REQUIRE;
  if (askpass && (askpassRequire === 'force' || askpassRequire === 'prefer')) return askpassPrompter(askpass, env);
  if (terminal) return terminalPrompter;
  if (askpass && askpassRequire !== 'never') return askpassPrompter(askpass, env);
  return undefined;
}

/** The same prompter, asking nothing before `gate` resolves (and nothing at all if it rejects). */
export function promptingAfter(prompter: Prompter, gate: Promise<void>): Prompter {
  return {
    via: prompter.via,
    ask: async (question, options) => {
      await gate;
      return prompter.ask(question, options);
    },
  };
}

function hasTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

function askpassPrompter(program: string, env: NodeJS.ProcessEnv): Prompter {
  return {
    via: 'SSH_ASKPASS',
    ask: (question) =>
      new Promise((resolve, reject) => {
        // ssh sets SSH_ASKPASS_PROMPT=confirm only for yes/no dialogs that print nothing; none of ours is one.
        const childEnv = { ...env };
        delete childEnv.SSH_ASKPASS_PROMPT;
        execFile(program, [question], { env: childEnv, timeout: 300_000, maxBuffer: 64 * 1024 }, (error, stdout) => {
          if (error) {
            reject(new GsyncError('auth', `SSH_ASKPASS (${program}) gave no answer`, { hint: 'check the program SSH_ASKPASS names' }));
            return;
          }
          resolve(stdout.replace(/\r?\n$/, ''));
        });
      }),
  };
}

const terminalPrompter: Prompter = {
  via: 'terminal',
  ask: (question, { echo }) => readFromTerminal(question, echo),
};

/** Reads one line from /dev/tty (not stdin, which may be a pipe), echo off for secrets. */
function readFromTerminal(question: string, echo: boolean): Promise<string> {
  const inFd = openSync('/dev/tty', 'r');
  const outFd = openSync('/dev/tty', 'w');
  const input = new tty.ReadStream(inFd);
  const output = new tty.WriteStream(outFd);
  output.write(question);
  input.setRawMode(true);
  return new Promise((resolve, reject) => {
    let answer = '';
    const finish = (error?: GsyncError): void => {
      input.off('data', onData);
      input.setRawMode(false);
      output.write('\n');
      input.destroy();
      output.destroy();
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\x04') return finish();
        if (char === '\x03') return finish(new GsyncError('interrupted', 'prompt cancelled with Ctrl+C'));
        if (char === '\x7f' || char === '\b') {
          answer = [...answer].slice(0, -1).join('');
          if (echo) output.write('\b \b');
          continue;
        }
        answer += char;
        if (echo) output.write(char);
      }
    };
    input.on('data', onData);
  });
}
