import * as Flags from '@oclif/core/flags';
import { GsyncCommand } from '../../baseCommand.js';

export default class CronList extends GsyncCommand {
  static override summary = "List the gsync jobs in your crontab: id, schedule, source, destination.";

  static override flags = {
    json: Flags.boolean({ description: 'print JSON instead of text' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(CronList);
    const { listJobs } = await import('../../../cron/listJobs.js');
    const { jobTable } = await import('../../render/cronJobs.js');
    const jobs = await listJobs();
    if (flags.json) process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
    else for (const line of jobTable(jobs)) process.stdout.write(`${line}\n`);
  }
}
