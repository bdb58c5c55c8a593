import { realpathSync } from 'node:fs';
import { chown, copyFile, lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAsCronRunsIt, cronEnv } from '../support/cronDaemon.js';
import { crontabUser, lockCrontab, readUserCrontab, runAsUser, writeUserCrontab, type CrontabUser, type ProcessResult } from '../support/crontabUser.js';
import { e2eSuite } from '../support/e2eSuite.js';
import { GSYNC_BIN } from '../support/runGsync.js';
import { generateKeyPair } from '../support/sshKeys.js';
import { renderClientHost } from '../support/sshdConfig.js';
import { dir, file, readTree } from '../support/trees.js';

const e2e = e2eSuite({ prefix: 'gsync-e2e-cron-' });
const user: CrontabUser = crontabUser();

/** Lines of the user's own that gsync must leave byte for byte: comments, env lines, blanks, tabs, trailing blanks, a `%` job. */
const OTHER_LINES = [
  '# the user’s own crontab: gsync must not touch a byte of it',
  'MAILTO=""',
  'PATH=/usr/local/bin:/usr/bin:/bin',
  '',
  '17 4 * * *\t/usr/bin/true --backup   ',
  '*/10 * * * * date +\\%s >/dev/null % stdin % lines',
  '  # an indented comment',
  '# 0 * * * * /usr/bin/node /opt/gsync/bin/run.js pull old:x /tmp/x # gsync:0badcafe',
  '',
].join('\n');

/**
 * February 31st: a date that never comes, so a cron daemon running on this machine never starts
 * a test's job by itself (and takes its lock) while the test runs the job the way cron would.
 */
const NEVER = '0 0 31 2 *';

let saved: string | undefined;
let release: (() => Promise<void>) | undefined;

beforeAll(async () => {
  release = await lockCrontab(user);
  saved = await readUserCrontab(user);
});
afterAll(async () => {
  try {
    await writeUserCrontab(user, saved);
  } finally {
    await release?.();
  }
});

interface Box {
  /** Where `gsync cron add` is run: a pull without local-dir lands in ./<basename> here. */
  readonly work: string;
  /** The ssh config given with -F: the suite's sshd, under the alias e2e.sshd.alias. */
  readonly sshConfig: string;
}

/** A directory of the user's with an ssh config and key for the suite's sshd (optionally a key with a passphrase). */
async function sandbox(options: { passphrase?: string } = {}): Promise<Box> {
  const base = await e2e.tempDir();
  const ssh = join(base, 'ssh');
  const work = join(base, 'work');
  await mkdir(ssh, { mode: 0o700 });
  await mkdir(work);
  const identityPath = join(ssh, 'id_ed25519');
  if (options.passphrase === undefined) {
    await copyFile(e2e.sshd.identityPath, identityPath);
  } else {
    await e2e.sshd.authorizeKey(await generateKeyPair(identityPath, { passphrase: options.passphrase }));
  }
  const knownHostsPath = join(ssh, 'known_hosts');
  await writeFile(knownHostsPath, `[127.0.0.1]:${e2e.sshd.port} ${e2e.sshd.hostKeyLine}\n`, { mode: 0o600 });
  const sshConfig = join(ssh, 'config');
  await writeFile(sshConfig, renderClientHost({ alias: e2e.sshd.alias, port: e2e.sshd.port, user: e2e.sshd.user.name, identityPath, knownHostsPath }), { mode: 0o600 });
  if (user.runner !== undefined) {
    for (const path of [base, ssh, work, identityPath, knownHostsPath, sshConfig]) await chown(path, user.runner.uid, user.runner.gid);
  }
  return { work, sshConfig };
}

/** gsync as the user at a login shell: their HOME, no ssh-agent. */
function gsync(args: string[], cwd: string): Promise<ProcessResult> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: user.home, LOGNAME: user.name };
  return runAsUser(user, [process.execPath, GSYNC_BIN, ...args], { env, cwd, timeoutMs: 30_000 });
}

/**
 * Runs the job's line as cron would: the command as cron hands it to the shell, through
 * `env -i` with cron's four variables, as the user, from their home, in a new session (no
 * controlling terminal), stdin /dev/null.
 */
function runAsCron(line: string, timeoutMs = 60_000): Promise<ProcessResult> {
  const { command, stdin } = commandAsCronRunsIt(line);
  expect(stdin).toBe('');
  const env = Object.entries(cronEnv(user.home, user.name)).map(([key, value]) => `${key}=${value}`);
  return runAsUser(user, ['/usr/bin/env', '-i', ...env, '/bin/sh', '-c', command], { cwd: user.home, timeoutMs });
}

function text(result: ProcessResult): string {
  return `exit ${result.code} signal ${result.signal}\nstdout: ${result.stdout.toString()}\nstderr: ${result.stderr.toString()}`;
}

/** The one gsync line of a crontab, after the user's own lines. */
function gsyncLine(crontab: string | undefined): string {
  expect(crontab?.startsWith(OTHER_LINES)).toBe(true);
  const added = (crontab ?? '').slice(OTHER_LINES.length);
  expect(added.endsWith('\n') && added.indexOf('\n') === added.length - 1).toBe(true);
  return added.slice(0, -1);
}

describe('gsync cron against the real crontab', () => {
  it("installs the line beside the user's own, runs under cron's environment, lists it, and removes it leaving the rest byte-identical", async () => {
    // A name that needs quoting for the shell and escaping for cron.
    const remote = await e2e.remoteTree("it's 100% done", {
      'metrics.json': file('{"acc": 0.93}\n', { mtime: 1_700_000_000 }),
      ckpt: dir({ 'step-1.pt': file(3 * 1024 * 1024 + 5) }),
    });
    const box = await sandbox();
    await writeUserCrontab(user, OTHER_LINES);
    const source = `${e2e.sshd.alias}:${remote}`;

    const added = await gsync(['cron', 'add', '-F', box.sshConfig, source, '--schedule', NEVER], box.work);
    expect(added.code, text(added)).toBe(0);
    expect(added.stderr.toString()).toBe('');
    const id = /^added ([0-9a-f]{8}): 0 0 31 2 \* /.exec(added.stdout.toString())?.[1];
    expect(id, added.stdout.toString()).toBeDefined();

    const line = gsyncLine(await readUserCrontab(user));
    const destination = `${box.work}/it'\\''s 100'\\%' done`;
    expect(line).toBe(
      `0 0 31 2 * '${process.execPath}' '${realpathSync(GSYNC_BIN)}' pull '${e2e.sshd.alias}:${dirname(remote)}/it'\\''s 100'\\%' done' '${destination}' -F '${box.sshConfig}' --quiet --log-file '${destination}/.gsync/cron.log' # gsync:${id}`,
    );

    // Again, with the same source and destination given another way: the same entry, untouched.
    const again = await gsync(['cron', 'add', '-F', box.sshConfig, `${source}/`, "./it's 100% done", '--schedule', ` ${NEVER.replace(/ /g, '  ')} `], box.work);
    expect(again.code, text(again)).toBe(0);
    expect(again.stdout.toString()).toMatch(new RegExp(`^unchanged ${id}: `));
    expect(gsyncLine(await readUserCrontab(user))).toBe(line);

    const localDir = join(box.work, "it's 100% done");
    const listed = await gsync(['cron', 'list', '--json'], box.work);
    expect(listed.code, text(listed)).toBe(0);
    expect(JSON.parse(listed.stdout.toString())).toStrictEqual([{ id, schedule: NEVER, source, destination: localDir }]);
    const table = await gsync(['cron', 'list'], box.work);
    expect(table.stdout.toString().split('\n')[1]).toBe(`${id}  ${NEVER}  ${source}  ${localDir}`);

    const started = Date.now();
    const run = await runAsCron(line);
    expect(run.code, text(run)).toBe(0);
    expect(await readTree(localDir)).toEqual(await readTree(remote));
    const log = await lstat(join(localDir, '.gsync', 'cron.log'));
    expect(log.isFile()).toBe(true);
    if (user.runner !== undefined) expect(log.uid).toBe(user.runner.uid);
    expect(Date.now() - started).toBeLessThan(30_000);

    const removed = await gsync(['cron', 'remove', id ?? ''], box.work);
    expect(removed.code, text(removed)).toBe(0);
    expect(removed.stdout.toString()).toBe(`removed ${id}  ${NEVER}  ${source}  ${localDir}\n`);
    expect(await readUserCrontab(user)).toBe(OTHER_LINES);

    const gone = await gsync(['cron', 'remove', id ?? ''], box.work);
    expect(gone.code).toBe(1);
    expect(gone.stderr.toString()).toBe(`gsync: there is no gsync job ${id} in your crontab\n  hint: gsync cron list shows the ids\n`);
    const empty = await gsync(['cron', 'list'], box.work);
    expect(empty.stdout.toString()).toBe('no gsync jobs in your crontab (gsync cron add installs one)\n');
  });

  it('warns at add time about a key with a passphrase, and the cron run then fails to log in at once instead of prompting', async () => {
    const remote = await e2e.remoteTree('locked-key', { 'a.txt': file('a') });
    const box = await sandbox({ passphrase: 'cron cannot type this' });
    await writeUserCrontab(user, OTHER_LINES);

    const added = await gsync(['cron', 'add', '-F', box.sshConfig, `${e2e.sshd.alias}:${remote}`, '--schedule', '0 0 30 2 *'], box.work);
    expect(added.code, text(added)).toBe(0);
    expect(added.stderr.toString()).toMatch(/^gsync: warning: the key \S+\/id_ed25519 needs a passphrase, and a cron job has no terminal to ask it on and no ssh-agent/);
    expect(added.stderr.toString()).not.toContain('cron cannot type this');
    const line = gsyncLine(await readUserCrontab(user));
    expect(line.startsWith('0 0 30 2 * ')).toBe(true);

    const run = await runAsCron(line, 30_000);
    expect(run.timedOut, text(run)).toBe(false);
    expect(run.code, text(run)).toBe(5);
    const localDir = join(box.work, 'locked-key');
    const logged = await readFile(join(localDir, '.gsync', 'cron.log'), 'utf8').catch(() => '');
    expect(`${run.stdout.toString()}${run.stderr.toString()}${logged}`).toMatch(/needs a passphrase/);
    expect(await readdir(localDir).catch(() => [])).not.toContain('a.txt');

    const id = /# gsync:([0-9a-f]{8})$/.exec(line)?.[1] ?? '';
    expect((await gsync(['cron', 'remove', id], box.work)).code).toBe(0);
    expect(await readUserCrontab(user)).toBe(OTHER_LINES);
  });

  it('refuses what cron cannot do as usage errors (exit 1), leaving the crontab alone', async () => {
    const box = await sandbox();
    await writeUserCrontab(user, OTHER_LINES);
    const cases: Array<{ args: string[]; stderr: RegExp }> = [
      { args: ['cron', 'add', 'gsync-test:runs/x', '--every', '7m'], stderr: /^gsync: --every 7m: cron cannot run a job every 7m evenly\n {2}hint: use one of 1m 2m 3m 4m 5m 6m 10m 12m 15m 20m 30m/ },
      { args: ['cron', 'add', 'gsync-test:runs/x', '--schedule', '5/10 * * * *'], stderr: /^gsync: --schedule '5\/10 \* \* \* \*': the minute field/ },
      { args: ['cron', 'add', 'gsync-test:runs/x'], stderr: /^gsync: Exactly one of the following must be provided: --every, --schedule\n {2}hint: see gsync cron add --help/ },
      { args: ['cron', 'add', 'gsync-test:', '--every', '1h'], stderr: /^gsync: the remote path '~' has no name to use for the local directory/ },
      { args: ['cron', 'remove', 'deadbeef'], stderr: /^gsync: there is no gsync job deadbeef in your crontab/ },
    ];
    for (const { args, stderr } of cases) {
      const result = await gsync(args, box.work);
      expect(result.code, `${args.join(' ')}\n${text(result)}`).toBe(1);
      expect(result.stderr.toString()).toMatch(stderr);
    }
    expect(await readUserCrontab(user)).toBe(OTHER_LINES);
  });

  it('says to install cron when there is no crontab command', async () => {
    const box = await sandbox();
    const env = { PATH: '/nonexistent', HOME: user.home, LOGNAME: user.name };
    const result = await runAsUser(user, [process.execPath, GSYNC_BIN, 'cron', 'list'], { env, cwd: box.work, timeoutMs: 30_000 });
    expect(result.code, text(result)).toBe(11);
    expect(result.stderr.toString()).toMatch(/^gsync: the crontab command is not installed \(or not on PATH\)\n {2}hint: install cron \(Debian\/Ubuntu: apt-get install cron/);
  });
});
