import { printable } from '../../core/printable.js';
import type { DirOutcome } from '../../core/types.js';
import type { RunEvent } from '../../pipeline/events.js';
import { dryRunLine, planLine, problemLines, summaryLines } from './summary.js';

/**
 * How much a human-readable output says. quiet: problems and the closing summary; normal: also
 * a line per file, notices and retries, the start; verbose: also a line per directory.
 */
export type Level = 'quiet' | 'normal' | 'verbose';

export interface Line {
  readonly stream: 'out' | 'err';
  readonly text: string;
}

/**
 * The lines an event prints (progress has its own renderers). Every server-controlled string
 * (paths, messages) goes through printable: no control character reaches a terminal or a log.
 */
export function eventLines(event: RunEvent, level: Level): Line[] {
  const normal = level !== 'quiet';
  switch (event.type) {
    case 'start':
      return normal ? [out(`pulling ${printable(event.source)} into ${printable(event.destination)} (run #${event.runId})`)] : [];
    case 'dir-start':
    case 'progress':
      return [];
    case 'dir-done':
      return level === 'verbose' ? [out(`${printable(event.path || '.')}/: ${outcomeText(event.outcome, event.problems)}`)] : [];
    case 'file':
      return normal ? [out(`${printable(event.path)}${event.transfer === 'whole' || event.transfer === 'tar' ? '' : ` (${event.transfer})`}`)] : [];
    case 'notice':
    case 'retry':
      return normal ? [err(`gsync: ${printable(event.path || '.')}: ${printable(event.message, 1000)}`)] : [];
    case 'problem':
      return [err(`gsync: ${printable(event.problem.path || '.')}: ${printable(event.problem.message)}`)];
    case 'planned':
      return normal ? [out(planLine(event.item))] : [];
    case 'dry-run-done':
      return [...refusal(event.summary.deleteRefused), out(dryRunLine(event.summary)), ...problemLines(event.summary.problems).map(out)];
    case 'done':
      return [...refusal(event.summary.deleteRefused), ...summaryLines(event.summary).map(out)];
  }
}

/** Why --delete deleted nothing (--max-delete, the mass-delete guard): said on stderr, whatever -q says. */
function refusal(why: string | undefined): Line[] {
  return why === undefined ? [] : [err(`gsync: ${printable(why, 1000)}`)];
}

function outcomeText(outcome: DirOutcome, problems: number): string {
  if (outcome === 'unlisted') return 'could not be listed';
  if (outcome === 'incomplete') return `${problems} ${problems === 1 ? 'entry' : 'entries'} failed`;
  return 'complete';
}

const out = (text: string): Line => ({ stream: 'out', text });
const err = (text: string): Line => ({ stream: 'err', text });
