import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { GsyncCommand } from '../../baseCommand.js';

export default class CronAdd extends GsyncCommand {
  static override summary = 'Pull a remote directory on a schedule: install (or update) a line in your crontab.';
  static override description = [
    'The line runs this gsync with absolute paths (node and gsync), --quiet, and --log-file <local-dir>/.gsync/cron.log.',
    'Without local-dir the destination is ./<basename of remote-path>, made absolute now.',
    'Adding the same source and destination again updates that line instead of adding another; every other line of your crontab is left as it was.',
    'cron gives a job no terminal and no ssh-agent: the key it logs in with must have no passphrase (add warns when it would).',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> cron add gpu-box:runs/exp1 --every 15m',
    '<%= config.bin %> cron add gpu-box:runs/exp1 ~/mirrors/exp1 --schedule "30 2 * * 1-5"',
  ];

  static override args = {
    source: Args.string({ description: '<alias>:<remote-path>', required: true }),
    localDir: Args.string({ description: 'local destination directory', required: false }),
  };

  static override flags = {
    every: Flags.string({ description: 'how often: 5m, 15m, 1h, 2h, 1d… (intervals that divide the hour or the day)', exactlyOne: ['every', 'schedule'] }),
    schedule: Flags.string({ description: 'a 5-field cron expression: minute hour day-of-month month day-of-week', exactlyOne: ['every', 'schedule'] }),
    'ssh-config': Flags.string({ char: 'F', description: 'ssh config file the job reads instead of ~/.ssh/config (as pull -F)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(CronAdd);
    // Loaded here: resolving the login pulls in ssh2, which `--help` should not pay for.
    const { addJob } = await import('../../../cron/addJob.js');
    const { printable } = await import('../../../core/printable.js');
    const result = await addJob({
      source: args.source,
      localDir: args.localDir,
      every: flags.every,
      schedule: flags.schedule,
      sshConfig: flags['ssh-config'],
      node: process.execPath,
      gsync: realpathSync(join(this.config.root, 'bin', 'run.js')),
      cwd: process.cwd(),
      shellHome: process.env.HOME,
    });
    for (const warning of result.warnings) {
      process.stderr.write(`gsync: warning: ${printable(warning.message, 1000)}\n  hint: ${printable(warning.hint, 1000)}\n`);
    }
    const { job } = result;
    const verb = !result.changed ? 'unchanged' : result.replaced ? 'updated' : 'added';
    process.stdout.write(`${verb} ${job.id}: ${job.schedule}  ${printable(job.source, 500)} -> ${printable(job.destination, 500)}\n`);
    process.stdout.write(`  log: ${printable(job.logFile, 500)}\n`);
  }
}
