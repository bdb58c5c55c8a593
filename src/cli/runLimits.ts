import { parseRate } from '../core/quantities.js';

/** --bwlimit (bytes per second, 0 for none), checked before anything starts. */
export function limitsOf(flags: { bwlimit?: string | undefined }): { bytesPerSecond: number } {
  return { bytesPerSecond: flags.bwlimit === undefined ? 0 : parseRate(flags.bwlimit, '--bwlimit') };
}
