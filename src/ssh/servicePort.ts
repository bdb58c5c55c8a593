import { readFileSync } from 'node:fs';

/**
 * misc.c's a2port: a number from 1 to 65535 (strtonum: optional sign and leading blanks, base
 * 10), or else a TCP service name from /etc/services (`Port ssh` is 22). Undefined when ssh
 * would say "Bad port".
 */
export function parsePort(text: string, servicesFile = '/etc/services'): number | undefined {
  const match = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(text);
  if (match) {
    const value = Number(match[2]) * (match[1] === '-' ? -1 : 1);
    return value >= 1 && value <= 65535 ? value : undefined;
  }
  return serviceTcpPort(text, servicesFile);
}

function serviceTcpPort(name: string, servicesFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(servicesFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [service, portProto, ...aliases] = (line.split('#')[0] ?? '').trim().split(/\s+/);
    const [port, proto] = (portProto ?? '').split('/');
    if (proto !== 'tcp' || (service !== name && !aliases.includes(name))) continue;
    const value = Number(port);
    if (Number.isInteger(value) && value >= 1 && value <= 65535) return value;
  }
  return undefined;
}
