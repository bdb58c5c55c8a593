import { GsyncError } from '../errors/GsyncError.js';

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** A size as rsync's --max-size takes it: bytes, or with K, M, G, T (powers of 1024; `KiB`, `MB` read the same). */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) throw usage(flag, text, 'a size such as 500K, 20M or 2G');
  return Math.floor(Number(match[1]) * unit);
}

/** A duration in seconds: a number of seconds, or with s, m, h, d, w (`90s`, `15m`, `2h`, `1d`). */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(text.trim());
  const unit = DURATION_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) throw usage(flag, text, 'a duration such as 90s, 15m, 2h or 1d');
  return Number(match[1]) * unit;
}

function usage(flag: string, text: string, wanted: string): GsyncError {
  return new GsyncError('usage', `${flag} ${text || '(empty)'}: not ${wanted}`, { hint: `give ${flag} ${wanted}` });
}
