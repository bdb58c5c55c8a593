import { Command } from '@oclif/core/command';
import { describeFailure } from './failure.js';

/** Every gsync command ends the same way on failure: one line, a hint, the right exit code. */
export abstract class GsyncCommand extends Command {
  protected override async catch(error: Error & { exitCode?: number }): Promise<void> {
    const failure = describeFailure(error, Boolean(process.env.GSYNC_DEBUG), this.id?.replaceAll(':', ' '));
    for (const line of failure.lines) process.stderr.write(`${line}\n`);
    process.exitCode = failure.exitCode;
  }
}
