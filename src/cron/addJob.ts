import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultLocalName, parseTarget } from '../core/target.js';
import { GsyncError } from '../errors/GsyncError.js';
import { STATE_DIR_NAME } from '../core/names.js';
import { resolveConnectSpec } from '../ssh/config.js';
import { jobId, normalizeSource, renderJobLine, type CronJob } from './cronLine.js';
import { parseCrontab, renderCrontab, upsertEntry } from './crontab.js';
import { readCrontab, writeCrontab } from './crontabProcess.js';
import { aliasWarning, cronEnvironment, homeWarning, loginWarning, type CronWarning } from './cronWarnings.js';
import { checkExpression, everyToExpression } from './schedule.js';

export interface AddJobRequest {
  /** `<alias>:<remote-path>`. */
  readonly source: string;
  readonly localDir: string | undefined;
  /** Exactly one of every and schedule. */
  readonly every: string | undefined;
  readonly schedule: string | undefined;
  /** `-F`, as typed. */
  readonly sshConfig: string | undefined;
  /** The node and bin/run.js the job runs: absolute. */
  readonly node: string;
  readonly gsync: string;
  readonly cwd: string;
  /** This shell's $HOME, to tell when cron's would differ. */
  readonly shellHome: string | undefined;
}

export interface AddJobResult {
  readonly job: CronJob;
  readonly line: string;
  /** An entry with this id was there before. */
  readonly replaced: boolean;
  /** False when the crontab already held exactly this line: nothing was written. */
  readonly changed: boolean;
  readonly warnings: readonly CronWarning[];
}

/** The name of the log file the job appends to, in the destination's state directory. */
export const CRON_LOG_NAME = 'cron.log';

/**
 * Installs (or updates) the job pulling `source` into its destination: the line is built and
 * checked, the ssh settings are resolved as cron will see them to warn about a login that
 * cannot work unattended, then the crontab is read, edited and written back.
 */
export async function addJob(request: AddJobRequest): Promise<AddJobResult> {
  if ((request.every === undefined) === (request.schedule === undefined)) {
    throw new GsyncError('usage', 'give exactly one of --every and --schedule', { hint: 'e.g. gsync cron add gpu-box:runs/exp1 --every 15m' });
  }
  const schedule = request.every !== undefined ? everyToExpression(request.every) : checkExpression(request.schedule ?? '');
  const source = normalizeSource(request.source);
  const target = parseTarget(source);
  const destination = resolve(request.cwd, request.localDir ?? defaultDestination(target.path));
  const sshConfig = request.sshConfig === undefined ? undefined : resolve(request.cwd, request.sshConfig);
  const id = jobId(source, destination);
  const job: CronJob = {
    id,
    schedule,
    source,
    destination,
    node: request.node,
    gsync: request.gsync,
    sshConfig,
    logFile: join(destination, STATE_DIR_NAME, CRON_LOG_NAME),
  };
  const line = renderJobLine(job);

  const me = userInfo();
  const spec = resolveConnectSpec(target, { ...(sshConfig === undefined ? {} : { configFile: sshConfig }), env: cronEnvironment(me.homedir, me.username) });
  const warnings = [await aliasWarning(spec), loginWarning(spec), homeWarning(sshConfig !== undefined, request.shellHome, me.homedir)].flatMap((w) => w ?? []);

  const edit = upsertEntry(parseCrontab(await readCrontab()), id, line);
  if (edit.changed) await writeCrontab(renderCrontab(edit.crontab));
  return { job, line, replaced: edit.replaced, changed: edit.changed, warnings };
}

/** As pull does without a local-dir: ./<basename of the remote path>, decided now, made absolute. */
function defaultDestination(remotePath: string): string {
  const name = defaultLocalName(remotePath);
  if (name === undefined) {
    throw new GsyncError('usage', `the remote path '${remotePath || '~'}' has no name to use for the local directory`, {
      hint: 'give the local directory explicitly: gsync cron add <alias>:<remote-path> <local-dir> --every 15m',
    });
  }
  return name;
}
