/**
 * The one table from outcome to exit code. The numbers are rsync's where rsync has one, so cron
 * scripts written for rsync keep working (see DESIGN.md).
 */
export const ExitCode = {
  ok: 0,
  usage: 1,
  unusablePath: 3,
  startFailed: 5,
  connection: 10,
  localIo: 11,
  protocol: 12,
  interrupted: 20,
  partial: 23,
  vanished: 24,
  deleteGuard: 25,
  timeout: 30,
  locked: 75,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Codes that end a run early; any of them outranks the partial-outcome codes. */
const fatal: ReadonlySet<number> = new Set([1, 3, 5, 10, 11, 12, 20, 30, 75]);

/** When several outcomes apply, the first in this order wins: fatal codes, then 25, 23, 24. */
export function worstExitCode(codes: Iterable<ExitCode>): ExitCode {
  let worst: ExitCode = ExitCode.ok;
  for (const code of codes) {
    if (rank(code) > rank(worst)) worst = code;
  }
  return worst;
}

function rank(code: ExitCode): number {
  if (fatal.has(code)) return 4;
  if (code === ExitCode.deleteGuard) return 3;
  if (code === ExitCode.partial) return 2;
  if (code === ExitCode.vanished) return 1;
  return 0;
}
