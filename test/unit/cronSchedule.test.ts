import { describe, expect, it } from 'vitest';
import { checkExpression, everyToExpression } from '../../src/cron/schedule.js';
import { GsyncError } from '../../src/errors/GsyncError.js';

function usageError(run: () => unknown): GsyncError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(GsyncError);
  const error = caught as GsyncError;
  expect(error.kind).toBe('usage');
  expect(error.exitCode).toBe(1);
  return error;
}

describe('everyToExpression: --every as cron can run it', () => {
  const rows: Array<{ description: string; every: string; want: string }> = [
    { description: 'every minute', every: '1m', want: '* * * * *' },
    { description: '5 minutes divide the hour', every: '5m', want: '*/5 * * * *' },
    { description: '15 minutes', every: '15m', want: '*/15 * * * *' },
    { description: '30 minutes', every: '30m', want: '*/30 * * * *' },
    { description: '60 minutes is an hour', every: '60m', want: '0 * * * *' },
    { description: '120 minutes is 2 hours', every: '120m', want: '0 */2 * * *' },
    { description: 'an hour, on the hour', every: '1h', want: '0 * * * *' },
    { description: '2 hours divide the day', every: '2h', want: '0 */2 * * *' },
    { description: '8 hours', every: '8h', want: '0 */8 * * *' },
    { description: '12 hours', every: '12h', want: '0 */12 * * *' },
    { description: '24 hours is a day', every: '24h', want: '0 0 * * *' },
    { description: 'a day, at midnight', every: '1d', want: '0 0 * * *' },
    { description: '7 days is a week', every: '7d', want: '0 0 * * 0' },
    { description: 'a week, Sunday at midnight', every: '1w', want: '0 0 * * 0' },
    { description: 'upper-case unit and blanks around', every: ' 15M ', want: '*/15 * * * *' },
  ];
  it.each(rows)('$description: $every → $want', ({ every, want }) => {
    expect(everyToExpression(every)).toBe(want);
  });

  const uneven: Array<{ description: string; every: string }> = [
    { description: '7 minutes do not divide the hour (:56 then :00)', every: '7m' },
    { description: '45 minutes', every: '45m' },
    { description: '90 minutes', every: '90m' },
    { description: '5 hours do not divide the day', every: '5h' },
    { description: '36 hours', every: '36h' },
    { description: '2 days (months have odd lengths)', every: '2d' },
    { description: '2 weeks', every: '2w' },
    { description: 'zero', every: '0m' },
  ];
  it.each(uneven)('refuses $description, saying what would work', ({ every }) => {
    const error = usageError(() => everyToExpression(every));
    expect(error.message).toBe(`--every ${every}: cron cannot run a job every ${every} evenly`);
    expect(error.hint).toMatch(/^use one of 1m 2m 3m 4m 5m 6m 10m 12m 15m 20m 30m, 1h 2h 3h 4h 6h 8h 12h, 1d or 1w, or .*--schedule/);
  });

  const unreadable: Array<{ description: string; every: string; message: RegExp }> = [
    { description: 'seconds', every: '30s', message: /cron runs jobs at most once a minute/ },
    { description: 'no unit', every: '15', message: /expected a number and a unit/ },
    { description: 'an unknown unit', every: '2y', message: /expected a number and a unit/ },
    { description: 'two units', every: '1h30m', message: /expected a number and a unit/ },
    { description: 'a fraction', every: '1.5h', message: /expected a number and a unit/ },
    { description: 'nothing', every: '', message: /expected a number and a unit/ },
  ];
  it.each(unreadable)('refuses $description', ({ every, message }) => {
    expect(usageError(() => everyToExpression(every)).message).toMatch(message);
  });
});

describe('checkExpression: --schedule as Debian cron reads it', () => {
  const valid: Array<{ description: string; expression: string; want?: string }> = [
    { description: 'every field a star', expression: '* * * * *' },
    { description: 'steps on stars', expression: '*/15 */2 * * *' },
    { description: 'lists and ranges', expression: '0,30 8-18 * * 1-5' },
    { description: 'a range with a step', expression: '10-50/20 * * * *' },
    { description: 'month and weekday names', expression: '0 3 1 jan-mar mon' },
    { description: 'names in any case', expression: '0 3 * DEC Sun' },
    { description: 'Sunday as 7', expression: '0 0 * * 7' },
    { description: 'the top of each range', expression: '59 23 31 12 7' },
    { description: 'extra blanks are folded', expression: '  5  4 *\t* *  ', want: '5 4 * * *' },
  ];
  it.each(valid)('takes $description', ({ expression, want }) => {
    expect(checkExpression(expression)).toBe(want ?? expression);
  });

  const invalid: Array<{ description: string; expression: string; reason: RegExp }> = [
    { description: 'four fields', expression: '* * * *', reason: /expected 5 fields, got 4/ },
    { description: 'six fields (a seconds field)', expression: '0 * * * * *', reason: /expected 5 fields, got 6/ },
    { description: 'nothing', expression: '', reason: /expected 5 fields, got 0/ },
    { description: 'an @ macro', expression: '@hourly', reason: /five-field schedules only/ },
    { description: 'minute 60', expression: '60 * * * *', reason: /the minute field '60' has a value outside 0-59/ },
    { description: 'hour 24', expression: '0 24 * * *', reason: /the hour field '24' has a value outside 0-23/ },
    { description: 'day 0', expression: '0 0 0 * *', reason: /the day of month field '0' has a value outside 1-31/ },
    { description: 'month 13', expression: '0 0 1 13 *', reason: /the month field '13' has a value outside 1-12 \(or jan-dec\)/ },
    { description: 'weekday 8', expression: '0 0 * * 8', reason: /the day of week field '8' has a value outside 0-7 \(or sun-sat\)/ },
    { description: 'a name in the wrong field', expression: '0 0 * mon *', reason: /the month field 'mon'/ },
    { description: 'a step after a single value (cron refuses 5/10)', expression: '5/10 * * * *', reason: /a step after a single value/ },
    { description: 'a zero step', expression: '*/0 * * * *', reason: /a step outside 1-60/ },
    { description: 'a backwards range', expression: '5-3 * * * *', reason: /a range that runs backwards \(5-3\)/ },
    { description: 'a range missing its end', expression: '5- * * * *', reason: /is not a list/ },
    { description: 'an empty list item', expression: '1,,2 * * * *', reason: /is not a list/ },
    { description: 'a percent sign (cron would cut the line there)', expression: '*/5% * * * *', reason: /is not a list/ },
    { description: 'a question mark (Quartz, not cron)', expression: '0 0 ? * *', reason: /is not a list/ },
  ];
  it.each(invalid)('refuses $description', ({ expression, reason }) => {
    const error = usageError(() => checkExpression(expression));
    expect(error.message).toMatch(reason);
    expect(error.hint).toMatch(/minute \(0-59\) hour \(0-23\)/);
  });
});
