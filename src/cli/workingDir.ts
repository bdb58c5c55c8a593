import { GsyncError } from '../errors/GsyncError.js';
import { describeFailure } from './failure.js';

/**
 * Ends the process, said plainly, if the working directory has been deleted: every relative path
 * would fail, and so would the transfer threads, which ask for it as they start.
 */
export function exitIfWorkingDirGone(): void {
  try {
    process.cwd();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const gone = new GsyncError('local-path', 'the current directory no longer exists (deleted since the shell entered it)', {
      hint: 'cd to a directory that exists and run the command again',
    });
    const { lines, exitCode } = describeFailure(gone, false);
    process.stderr.write(lines.map((line) => `${line}\n`).join(''));
    process.exit(exitCode);
  }
}
