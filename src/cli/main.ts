/**
 * What bin/run.js starts: the entry of the one-file build (scripts/bundle.ts) of the CLI, oclif
 * and the pure-JS dependencies. It is also oclif's command list (package.json names COMMANDS),
 * so oclif takes the commands from this same file instead of importing each from dist/.
 */
import CronAdd from './commands/cron/add.js';
import CronList from './commands/cron/list.js';
import CronRemove from './commands/cron/remove.js';
import Pull from './commands/pull.js';
import Status from './commands/status.js';

export { execute } from '@oclif/core';
export { dropHeadStart, startHeadStart } from './headStart.js';
export { guardStdout } from './stdout.js';
export { exitIfWorkingDirGone } from './workingDir.js';

export const COMMANDS = {
  pull: Pull,
  status: Status,
  'cron:add': CronAdd,
  'cron:list': CronList,
  'cron:remove': CronRemove,
};
