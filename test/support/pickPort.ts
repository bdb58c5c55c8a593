import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';

/**
 * A random port for a server that cannot bind port 0 (sshd). It is drawn from below the kernel's
 * ephemeral range (32768–60999 by default), so outgoing connections and port-0 listeners (the
 * proxy) never hold it; other test files' sshds still can, which the caller detects and retries.
 */
export function pickPort(): number {
  const [low, high] = ephemeralRange();
  if (low > 11_000) return randomInt(10_000, low);
  if (high < 65_000) return randomInt(high + 1, 65_536);
  return randomInt(1_024, Math.max(1_025, low));
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && low > 0 && high >= low) return [low, high];
  } catch {
    // Not Linux: fall through to the IANA default range.
  }
  return [49_152, 65_535];
}
