import { GsyncError } from '../errors/GsyncError.js';
import type { Authenticator } from './auth.js';
import { configFileOf, type ConnectSpec } from './spec.js';

/** Why a handshake failed, from ssh2's error: what the user sees, with what to do about it. */
export function handshakeError(spec: ConnectSpec, error: Error & { level?: string }, auth: Authenticator): GsyncError {
  if (error instanceof GsyncError) return error;
  if (error.level === 'client-authentication') return authError(spec, auth);
  if (/too many authentication failures/i.test(error.message)) {
    return new GsyncError('auth', `${spec.alias} closed the login after too many attempts (tried ${auth.tried().join(', ') || 'nothing'})`, {
      hint: `the server counts every key offered (MaxAuthTries): set IdentitiesOnly yes and the right IdentityFile for Host ${spec.alias}, so only that key is offered`,
    });
  }
  return new GsyncError('network', `SSH connection to ${spec.alias} failed: ${error.message}`, {
    hint: 'check that the host runs an SSH server on that port',
    cause: error,
  });
}

export function handshakeTimeout(spec: ConnectSpec): GsyncError {
  return new GsyncError('timeout', `the SSH handshake with ${spec.alias} timed out after ${spec.connectTimeoutMs / 1000} s`, {
    hint: 'the host accepted the connection but did not answer as an SSH server; check the Port (ConnectTimeout sets the limit)',
  });
}

/** The connection closed before the login finished, with no error of its own (ssh2 then reports nothing). */
export function closedDuringHandshake(spec: ConnectSpec): GsyncError {
  return new GsyncError('network', `${spec.alias} closed the connection before the login finished`, {
    hint: 'the server may limit login time (LoginGraceTime) or block this address; try ssh to see what it says',
  });
}

/** Which logins were tried and which were passed over, and the likeliest fix; never a secret. */
function authError(spec: ConnectSpec, auth: Authenticator): GsyncError {
  const tried = auth.tried();
  const passedOver = auth.passedOver();
  const parts = [tried.length > 0 ? `tried ${tried.join(', ')}` : 'nothing to try'];
  if (passedOver.length > 0) parts.push(`passed over ${passedOver.map((p) => `${p.what}: ${p.why}`).join('; ')}`);
  const fixes = passedOver.flatMap((p) => (p.fix ? [p.fix] : []));
  if (spec.certificateFiles.length > 0) {
    fixes.push(
      `this Host uses CertificateFile (${spec.certificateFiles.join(', ')}), and gsync cannot log in with SSH certificates (ssh2 lacks them): authorise a plain key on the host`,
    );
  }
  fixes.push(`check IdentityFile and User for Host ${spec.alias} in ${configFileOf(spec)}, or that ssh-agent holds the key`);
  return new GsyncError('auth', `authentication as ${spec.user} on ${spec.alias} failed (${parts.join('; ')})`, { hint: fixes.join('; ') });
}

/** Why an established connection ended: a dead link noticed by keepalives is a timeout. */
export function lostError(spec: ConnectSpec, lastError: (Error & { level?: string }) | undefined): GsyncError {
  const hint = 'run the same command again once the host is reachable: finished files are kept';
  // A ProxyCommand that ends under a session that was up is the link dropping (a tunnel's
  // hiccup), tried again like one; one that cannot start at all stays a failure to start.
  if (lastError instanceof GsyncError && lastError.kind === 'proxy') return new GsyncError('network', `connection to ${spec.alias} lost: ${lastError.message}`, { hint, cause: lastError });
  if (lastError instanceof GsyncError) return lastError;
  if (lastError?.level === 'client-timeout') {
    const seconds = (spec.keepaliveIntervalMs * (spec.keepaliveCountMax + 1)) / 1000;
    return new GsyncError('timeout', `no answer to ${spec.keepaliveCountMax} keepalives from ${spec.alias} in ${seconds} s: the link is down`, { hint, cause: lastError });
  }
  return new GsyncError('network', `connection to ${spec.alias} lost${lastError ? `: ${lastError.message}` : ''}`, { hint, cause: lastError });
}

export function noSftp(spec: ConnectSpec, detail: string): GsyncError {
  return new GsyncError('sftp', `${spec.alias} accepted the SSH login but has no SFTP subsystem (${detail})`, {
    hint:
      'this endpoint carries a shell only, as relayed or web-terminal SSH services do: use the direct TCP endpoint of the host, ' +
      'or ask its admin to enable Subsystem sftp in sshd_config',
  });
}

/** A server that took the login and the subsystem request but never answered SFTP: stuck, or a shell-only relay. */
export function silentSftp(spec: ConnectSpec, timeoutMs: number): GsyncError {
  return new GsyncError('timeout', `${spec.alias} accepted the SSH login but its SFTP subsystem did not answer within ${timeoutMs / 1000} s`, {
    hint:
      'the server may be overloaded or its sftp-server stuck: try again (--timeout and ConnectTimeout set the limit); ' +
      'a relay that carries a shell only never answers: use the direct TCP endpoint of the host',
  });
}

/** Why the TCP connection could not be made, as the user can act on it. */
export function socketError(spec: ConnectSpec, error: NodeJS.ErrnoException): GsyncError {
  const where = `${spec.host}:${spec.port}`;
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      if (!spec.aliasKnown) {
        return new GsyncError('usage', `unknown host alias '${spec.alias}': no Host entry for it in ${configFileOf(spec)} and no such host`, {
          hint: `add a Host block for it to ${configFileOf(spec)}, or check the spelling`,
          cause: error,
        });
      }
      return new GsyncError('network', `cannot resolve ${spec.host} (for ${spec.alias})`, { hint: 'check HostName for this Host and your DNS', cause: error });
    case 'ECONNREFUSED':
      return new GsyncError('network', `connection refused by ${where} (${spec.alias})`, { hint: 'is sshd running there, and is the Port right?', cause: error });
    case 'ETIMEDOUT':
      return new GsyncError('timeout', `connecting to ${where} (${spec.alias}) timed out`, { hint: 'check that the host is up and reachable', cause: error });
    default:
      return new GsyncError('network', `cannot connect to ${where} (${spec.alias}): ${error.code ?? error.message}`, {
        hint: 'check the network path to the host',
        cause: error,
      });
  }
}
