import { GsyncError } from '../errors/GsyncError.js';

/** What `--every` can say: each divides its next unit evenly, so cron's steps never bunch up at a boundary. */
export const EVERY_CHOICES = '1m 2m 3m 4m 5m 6m 10m 12m 15m 20m 30m, 1h 2h 3h 4h 6h 8h 12h, 1d or 1w';

const SCHEDULE_HINT =
  "give five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or jan-dec) day-of-week (0-7 or sun-sat), e.g. --schedule '*/15 * * * *' or --schedule '30 2 * * 1-5'";

/**
 * `--every 15m` as a cron expression. cron counts steps from the start of each hour (or day), so
 * `*\/7` runs at :56 and again at :00; only intervals that divide the next unit evenly are taken,
 * and the rest are refused with what would work. Minutes that make whole hours, and hours that
 * make a whole day, are read as those (120m is 2h).
 */
export function everyToExpression(every: string): string {
  const match = /^\s*(\d{1,6})\s*([a-z]+)\s*$/i.exec(every);
  const unit = match?.[2]?.toLowerCase();
  if (!match || unit === undefined || !['m', 'h', 'd', 'w'].includes(unit)) {
    const seconds = unit === 's';
    throw new GsyncError('usage', `--every ${every.trim()}: ${seconds ? 'cron runs jobs at most once a minute' : 'expected a number and a unit (m, h, d or w), e.g. 15m'}`, {
      hint: `use one of ${EVERY_CHOICES}`,
    });
  }
  let count = Number(match[1]);
  let inUnit = unit;
  if (inUnit === 'm' && count > 0 && count % 60 === 0) [count, inUnit] = [count / 60, 'h'];
  if (inUnit === 'h' && count > 0 && count % 24 === 0) [count, inUnit] = [count / 24, 'd'];
  if (inUnit === 'd' && count === 7) [count, inUnit] = [1, 'w'];
  const expression = expressionFor(count, inUnit);
  if (expression === undefined) {
    throw new GsyncError('usage', `--every ${every.trim()}: cron cannot run a job every ${every.trim()} evenly`, {
      hint: `use one of ${EVERY_CHOICES}, or give the times yourself with --schedule '<minute> <hour> <day> <month> <weekday>'`,
    });
  }
  return expression;
}

function expressionFor(count: number, unit: string): string | undefined {
  if (count <= 0) return undefined;
  if (unit === 'm' && 60 % count === 0) return count === 1 ? '* * * * *' : `*/${count} * * * *`;
  if (unit === 'h' && 24 % count === 0) return count === 1 ? '0 * * * *' : `0 */${count} * * *`;
  if (unit === 'd' && count === 1) return '0 0 * * *';
  if (unit === 'w' && count === 1) return '0 0 * * 0';
  return undefined;
}

interface Field {
  readonly name: string;
  readonly low: number;
  readonly high: number;
  /** Three-letter names cron takes for this field, numbered from `low` (sun = 0, jan = 1). */
  readonly names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', low: 0, high: 59 },
  { name: 'hour', low: 0, high: 23 },
  { name: 'day of month', low: 1, high: 31 },
  { name: 'month', low: 1, high: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // cron takes both 0 and 7 for Sunday.
  { name: 'day of week', low: 0, high: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/**
 * Checks a 5-field cron expression as Debian's cron reads one, and returns it with single spaces.
 * Each field is a comma list of `*`, `N` or `N-M`, where `*` and ranges may take a `/step`
 * (cron refuses `N/step`); month and weekday also take names. Stricter than cron in one place: a
 * range that runs backwards (`5-3`), which cron takes and runs never, is refused.
 */
export function checkExpression(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  const fail = (reason: string): never => {
    throw new GsyncError('usage', `--schedule '${expression.trim()}': ${reason}`, { hint: SCHEDULE_HINT });
  };
  if (expression.trim().startsWith('@')) fail('gsync writes five-field schedules only (@hourly is 0 * * * *, @daily 0 0 * * *)');
  if (fields.length !== FIELDS.length) fail(`expected 5 fields, got ${fields[0] === '' ? 0 : fields.length}`);
  FIELDS.forEach((field, index) => {
    const problem = fieldProblem(fields[index] ?? '', field);
    if (problem !== undefined) fail(`the ${field.name} field '${fields[index]}' ${problem}`);
  });
  return fields.join(' ');
}

/** Why one field is not one cron reads, or undefined when it is. */
function fieldProblem(text: string, field: Field): string | undefined {
  for (const item of text.split(',')) {
    const match = /^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/i.exec(item);
    if (!match) return `is not a list of *, N, N-M with an optional /step`;
    const [, base = '', step] = match;
    const [from, to] = base === '*' ? [field.low, field.high] : base.split('-').map((part) => valueOf(part, field));
    if (from === undefined || (base.includes('-') && to === undefined)) return `has a value outside ${field.low}-${field.high}${field.names ? ` (or ${field.names[0]}-${field.names.at(-1)})` : ''}`;
    if (to !== undefined && to < from) return `has a range that runs backwards (${base})`;
    if (step === undefined) continue;
    if (to === undefined) return `has a step after a single value (${item}): cron takes a step only after * or a range`;
    if (Number(step) < 1 || Number(step) > field.high - field.low + 1) return `has a step outside 1-${field.high - field.low + 1} (${item})`;
  }
  return undefined;
}

function valueOf(part: string, field: Field): number | undefined {
  if (/^\d+$/.test(part)) {
    const value = Number(part);
    return value >= field.low && value <= field.high ? value : undefined;
  }
  const index = field.names?.indexOf(part.toLowerCase()) ?? -1;
  return index < 0 ? undefined : index + (field.name === 'month' ? 1 : 0);
}
