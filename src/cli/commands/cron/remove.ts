import * as Args from '@oclif/core/args';
import { GsyncCommand } from '../../baseCommand.js';

export default class CronRemove extends GsyncCommand {
  static override summary = 'Remove one gsync job from your crontab, by the id gsync cron list shows.';

  static override args = {
    id: Args.string({ description: 'the job id (8 hex digits)', required: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(CronRemove);
    const { removeJob } = await import('../../../cron/listJobs.js');
    const { jobLine } = await import('../../render/cronJobs.js');
    const removed = await removeJob(args.id);
    process.stdout.write(`removed ${jobLine(removed)}\n`);
  }
}
