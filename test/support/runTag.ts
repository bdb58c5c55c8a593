/**
 * Names one `vitest` invocation, so its teardown can sweep up exactly the sshds and temp dirs that
 * this run leaked (a crashed worker never calls stop()) without touching a run in another shell.
 * globalSetup sets it before the workers are forked; they inherit it.
 */
export const RUN_TAG_ENV = 'GSYNC_TEST_RUN';

export function runTag(): string {
  return process.env[RUN_TAG_ENV] ?? `pid${process.pid}`;
}

/**
 * Prefix of the temp dir each sshd of this run lives in. Its sshd_config path is on the
 * listener's command line (sshd's proctitle keeps it), which is how teardown finds leaked ones.
 */
export function sshdDirPrefix(): string {
  return `gsync-sshd-${runTag()}-`;
}
