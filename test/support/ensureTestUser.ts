import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { lookupPasswd, TEST_USER_NAME } from './testUser.js';

const run = promisify(execFile);

/**
 * Creates the unprivileged `gsynctest` account if it is missing. Two `vitest` runs in parallel
 * shells race here: useradd fails on the /etc/passwd lock or because the other run just made the
 * user, so every failure is retried after re-checking whether the user now exists.
 *
 * The password field must be `*`, not useradd's default `!`: with `UsePAM no`, sshd treats a
 * shadow entry starting with `!` as a locked account and refuses even public-key logins.
 */
export async function ensureTestUser(): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      if (lookupPasswd(TEST_USER_NAME) === undefined) {
        await run('useradd', [
          '--create-home',
          '--home-dir',
          `/home/${TEST_USER_NAME}`,
          '--shell',
          '/bin/sh',
          '--user-group',
          '--password',
          '*',
          TEST_USER_NAME,
        ]);
      }
      if (await isLocked(TEST_USER_NAME)) await run('usermod', ['--password', '*', TEST_USER_NAME]);
      if (lookupPasswd(TEST_USER_NAME) !== undefined && !(await isLocked(TEST_USER_NAME))) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
  }
  throw new Error(`could not create the test user ${TEST_USER_NAME}`, { cause: lastError });
}

async function isLocked(name: string): Promise<boolean> {
  const shadow = await readFile('/etc/shadow', 'utf8');
  const line = shadow.split('\n').find((l) => l.startsWith(`${name}:`));
  return line?.split(':')[1]?.startsWith('!') ?? false;
}
