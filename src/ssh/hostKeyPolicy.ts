import { GsyncError } from '../errors/GsyncError.js';
import { appendKnownHost, fingerprint, keyTypeOf, knownHostsName, knownKeyTypes, readKnownHosts, verifyHostKey } from './knownHosts.js';
import type { Prompter } from './prompt.js';
import type { ConnectSpec } from './spec.js';
import { ssh2Algorithms } from './ssh2Algorithms.js';

/** The name a host's key is filed under: HostKeyAlias, or `host` / `[host]:port`. */
export function hostKeyName(spec: ConnectSpec): string {
  return spec.hostKeyAlias ?? knownHostsName(spec.host, spec.port);
}

/**
 * OpenSSH's decision for the key a server presented, per StrictHostKeyChecking. A revoked or
 * changed key is refused whatever the setting: ssh lets a changed key through under `no`
 * (with password logins off), gsync never does, since a recreated box and an interceptor look
 * the same. A pinned key (a worker after the main connection verified) must simply be the same.
 */
export async function checkHostKey(spec: ConnectSpec, key: Buffer, pinned: Buffer | undefined, prompter: Prompter | undefined): Promise<void> {
  const name = hostKeyName(spec);
  if (pinned) {
    if (pinned.equals(key)) return;
    throw new GsyncError('hostkey', `the host key of ${name} changed during this run`, {
      hint: 'someone may be intercepting the connection; check the host before running again',
    });
  }
  const verdict = verifyHostKey(readKnownHosts([...spec.knownHostsFiles, ...spec.globalKnownHostsFiles]), name, key);
  switch (verdict.status) {
    case 'match':
      return;
    case 'revoked':
      throw new GsyncError('hostkey', `the host key of ${name} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}`, {
        hint: 'refusing to connect: this key must not be trusted',
      });
    case 'changed':
      throw new GsyncError('hostkey', `the host key of ${name} changed: it is not the one in ${verdict.entry.file}:${verdict.entry.line} (${fingerprint(key)} now)`, {
        hint:
          `this happens when the instance was recreated at the same address; if so, run ssh-keygen -R '${name}' -f '${verdict.entry.file}' ` +
          `and connect again to record the new key. Otherwise someone may be intercepting the connection`,
      });
    case 'unknown':
      return acceptUnknown(spec, name, key, verdict.certAuthorityOnly, prompter);
  }
}

async function acceptUnknown(spec: ConnectSpec, name: string, key: Buffer, certAuthorityOnly: boolean, prompter: Prompter | undefined): Promise<void> {
  if (certAuthorityOnly) {
    throw new GsyncError('hostkey', `${name} is trusted only through a @cert-authority line, and gsync cannot check host certificates (ssh2 has no support for them)`, {
      hint: `add the host's own key to known_hosts: ssh-keyscan -p ${spec.port} ${spec.host} >> ~/.ssh/known_hosts (after checking its fingerprint)`,
    });
  }
  const policy = spec.strictHostKeyChecking;
  const accepted = policy === 'accept-new' || policy === 'no' || (policy === 'ask' && (await userAccepts(name, key, prompter)));
  if (!accepted) {
    throw new GsyncError('hostkey', `the host key of ${name} is not known (${keyTypeOf(key)} ${fingerprint(key)})`, {
      hint: `connect once with 'ssh ${spec.alias}' to check and record its key, or set StrictHostKeyChecking accept-new for this Host`,
    });
  }
  // With no file to write to (UserKnownHostsFile none), or one that cannot be written, ssh
  // accepts for this connection only.
  const file = spec.knownHostsFiles[0];
  if (file) await appendKnownHost(file, name, key, spec.hashKnownHosts).catch(() => undefined);
}

async function userAccepts(name: string, key: Buffer, prompter: Prompter | undefined): Promise<boolean> {
  if (!prompter) return false;
  const print = fingerprint(key);
  const answer = await prompter.ask(
    `The authenticity of host '${name}' can't be established.\n${keyTypeOf(key)} key fingerprint is ${print}.\n` +
      'Are you sure you want to continue connecting (yes/no/[fingerprint])? ',
    { echo: true },
  );
  return answer.trim().toLowerCase() === 'yes' || answer.trim() === print;
}

/**
 * Ask for a key type known_hosts already has, as OpenSSH does, so a known host never looks
 * unknown or changed (ssh2 alone always asks for ed25519 first). A configured
 * HostKeyAlgorithms list (already narrowed to what ssh2 supports) replaces the default order.
 */
export function preferredHostKeyAlgorithms(spec: ConnectSpec): string[] {
  const allowed = spec.hostKeyAlgorithms && spec.hostKeyAlgorithms.length > 0 ? spec.hostKeyAlgorithms : ssh2Algorithms().defaultHostKeyAlgorithms;
  const known = knownKeyTypes(readKnownHosts([...spec.knownHostsFiles, ...spec.globalKnownHostsFiles]), hostKeyName(spec)).flatMap((type) =>
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type],
  );
  const first = allowed.filter((a) => known.includes(a));
  return [...first, ...allowed.filter((a) => !first.includes(a))];
}
