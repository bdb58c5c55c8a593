import { GsyncError } from '../errors/GsyncError.js';
import { readJobLine, type ListedJob } from './cronLine.js';
import { gsyncEntries, parseCrontab, removeEntry, renderCrontab } from './crontab.js';
import { readCrontab, writeCrontab } from './crontabProcess.js';

/** gsync's jobs in the user's crontab, in crontab order. */
export async function listJobs(): Promise<ListedJob[]> {
  return gsyncEntries(parseCrontab(await readCrontab())).flatMap((entry) => readJobLine(entry.line) ?? []);
}

/** Takes the job `id` out of the crontab, every other line untouched; an unknown id is a usage error. */
export async function removeJob(id: string): Promise<ListedJob> {
  const crontab = parseCrontab(await readCrontab());
  const found = gsyncEntries(crontab).find((entry) => entry.id === id);
  const listed = found && readJobLine(found.line);
  if (!listed) {
    throw new GsyncError('usage', `there is no gsync job ${id} in your crontab`, { hint: 'gsync cron list shows the ids' });
  }
  await writeCrontab(renderCrontab(removeEntry(crontab, id).crontab));
  return listed;
}
