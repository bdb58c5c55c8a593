import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/** The account the remote side of the tests runs as. */
export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

/** The unprivileged account globalSetup creates when the suite runs as root. */
export const TEST_USER_NAME = 'gsynctest';

let cached: TestUser | undefined;

/**
 * Who the tests log in as over SSH: `gsynctest` when running as root (so permission errors are
 * real — root reads a mode-000 file, gsynctest does not), otherwise the current user, because a
 * non-root sshd can only authenticate the user it runs as.
 */
export function testUser(): TestUser {
  if (cached !== undefined) return cached;
  if (process.getuid?.() !== 0) {
    const me = userInfo();
    cached = { name: me.username, uid: me.uid, gid: me.gid };
    return cached;
  }
  const found = lookupPasswd(TEST_USER_NAME);
  if (found === undefined) {
    throw new Error(
      `test user ${TEST_USER_NAME} does not exist; it is created by test/support/globalSetup.ts (run the tests through vitest)`,
    );
  }
  cached = found;
  return cached;
}

/** Reads /etc/passwd directly: cheaper than spawning `id`, and useradd writes there. */
export function lookupPasswd(name: string): TestUser | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}
