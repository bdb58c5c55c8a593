import { readFile } from 'node:fs/promises';
import { runProcess } from './runProcess.js';

/**
 * Generates a key pair (ed25519 unless asked) at `path` / `path.pub`, with no passphrase unless given (ssh-keygen writes the
 * private key 0600, which both sshd and ssh insist on) and returns the public key as
 * "ssh-ed25519 AAAA..." without the comment.
 */
export async function generateKeyPair(path: string, options: { type?: 'ed25519' | 'ecdsa'; passphrase?: string } = {}): Promise<string> {
  const args = ['-q', '-N', options.passphrase ?? '', '-t', options.type ?? 'ed25519', '-C', 'gsync-test', '-f', path];
  const result = await runProcess('ssh-keygen', args, {
    timeoutMs: 10_000,
  });
  if (result.code !== 0) throw new Error(`ssh-keygen failed: ${result.stderr.toString()}`);
  const [type, key] = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/);
  if (type === undefined || key === undefined) throw new Error(`ssh-keygen wrote no public key to ${path}.pub`);
  return `${type} ${key}`;
}
