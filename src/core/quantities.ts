import { GsyncError } from '../errors/GsyncError.js';

const SIZE_POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4 };
const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** A number with an optional unit, as rsync reads --max-size and --bwlimit: K, M, G, T (and KiB…) are powers of 1024, KB, MB… powers of 1000, B bytes. */
const QUANTITY = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(ib|b)?|(b))?$/i;

/** The multiplier of a QUANTITY match, or undefined without a unit. */
function unitOf(match: RegExpExecArray): number | undefined {
  if (match[4]) return 1;
  const letter = match[2]?.toLowerCase();
  if (letter === undefined) return undefined;
  const base = match[3]?.toLowerCase() === 'b' ? 1000 : 1024;
  return base ** (SIZE_POWERS[letter] ?? 0);
}

/** A size as rsync's --max-size takes it: bytes, or with a unit (500K, 20M, 2G; 20MB is 20,000,000). */
export function parseSize(text: string, flag: string): number {
  const match = QUANTITY.exec(text.trim());
  if (!match) throw usage(flag, text, 'a size such as 500K, 20M or 2G');
  return Math.floor(Number(match[1]) * (unitOf(match) ?? 1));
}

/** A duration in seconds: a number of seconds, or with s, m, h, d, w (`90s`, `15m`, `2h`, `1d`). */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(text.trim());
  const unit = DURATION_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) throw usage(flag, text, 'a duration such as 90s, 15m, 2h or 1d');
  return Number(match[1]) * unit;
}

/** Under this a READ's own headers weigh as much as its data; rsync rounds a smaller --bwlimit up to 1 KiB/s too. */
const MIN_RATE = 1024;
const RATE = 'a rate such as 500K, 20M or 1.5G (K, M, G are powers of 1024, KB, MB, GB of 1000; a plain number is KiB/s; 0 means no limit)';

/**
 * A transfer rate as rsync's --bwlimit takes it, in bytes per second: a plain number is KiB/s,
 * units read as in parseSize (`20M` is 20 MiB/s, `20MB` 20,000,000 B/s), B is bytes. 0 means no limit; a rate
 * under 1 KiB/s is refused.
 */
export function parseRate(text: string, flag: string): number {
  const match = QUANTITY.exec(text.trim());
  if (!match) throw usage(flag, text, RATE);
  const unit = unitOf(match) ?? 1024;
  // Only a zero means no limit: a rate that rounds to nothing (0.0001) is too small, not none.
  if (Number(match[1]) === 0) return 0;
  const rate = Math.round(Number(match[1]) * unit);
  if (rate < MIN_RATE) throw usage(flag, text, `${RATE}, of at least 1K`);
  if (!Number.isSafeInteger(rate)) throw usage(flag, text, `${RATE}, under 8P (no link is faster)`);
  return rate;
}

function usage(flag: string, text: string, wanted: string): GsyncError {
  return new GsyncError('usage', `${flag} ${text || '(empty)'}: not ${wanted}`, { hint: `give ${flag} ${wanted}` });
}
