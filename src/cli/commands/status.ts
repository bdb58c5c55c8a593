import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { GsyncCommand } from '../baseCommand.js';

export default class Status extends GsyncCommand {
  static override summary = 'Show what the state file of a destination knows: the last runs, their problems, and files to resume.';
  static override args = {
    localDir: Args.string({ description: 'the destination directory of earlier pulls', default: '.' }),
  };
  static override flags = {
    // Bounded: a count past 2^53 reaches SQLite's LIMIT as a float, which it refuses.
    runs: Flags.integer({ description: 'how many runs to show', default: 10, min: 1, max: 1_000_000 }),
    json: Flags.boolean({ description: 'print JSON instead of text' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Status);
    const { readStatus } = await import('../../pipeline/readStatus.js');
    const { statusLines } = await import('../render/status.js');
    const status = readStatus(args.localDir, flags.runs);
    if (flags.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else for (const line of statusLines(status)) process.stdout.write(`${line}\n`);
  }
}
