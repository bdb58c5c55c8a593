import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cronQuote, jobId, MAX_COMMAND_LENGTH, readJobLine, renderJobLine, type CronJob } from '../../src/cron/cronLine.js';
import { gsyncEntries, parseCrontab, removeEntry, renderCrontab, upsertEntry } from '../../src/cron/crontab.js';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { commandAsCronRunsIt } from '../support/cronDaemon.js';

/** A user's crontab with everything gsync must leave alone, byte for byte. */
const OTHERS = [
  '# m h  dom mon dow   command',
  'MAILTO=""',
  'PATH=/usr/local/bin:/usr/bin:/bin',
  '',
  '0 3 * * *\t/usr/bin/backup --to /mnt/b   ',
  '*/10 * * * * date +\\%s >> ~/ticks.log % stdin % lines',
  '  # indented comment',
  '# */5 * * * * /usr/bin/node /opt/gsync/bin/run.js pull old:x /tmp/x # gsync:0badcafe',
  '@reboot echo "mentions # gsync:nothex1 but is not ours"',
  'crlf line\r',
  '',
].join('\n');

function job(overrides: Partial<CronJob> = {}): CronJob {
  const source = overrides.source ?? 'gpu-box:runs/exp1';
  const destination = overrides.destination ?? '/home/me/exp1';
  return {
    id: jobId(source, destination),
    schedule: '*/15 * * * *',
    source,
    destination,
    node: '/usr/bin/node',
    gsync: '/opt/gsync/bin/run.js',
    sshConfig: undefined,
    logFile: `${destination}/.gsync/cron.log`,
    ...overrides,
  };
}

describe('crontab text: parse and render', () => {
  const texts: Array<{ description: string; text: string }> = [
    { description: 'an empty crontab', text: '' },
    { description: 'comments, env lines, blank lines, tabs, trailing blanks, %, @reboot and a CR', text: `${OTHERS}\n` },
    { description: 'blank lines at the end', text: '0 * * * * a\n\n\n' },
    { description: 'a single job', text: '0 * * * * a\n' },
  ];
  it.each(texts)('$description comes back byte for byte', ({ text }) => {
    expect(renderCrontab(parseCrontab(text))).toBe(text);
  });

  it('ends a crontab read without a final newline with one, as crontab requires', () => {
    expect(renderCrontab(parseCrontab('0 * * * * a\n# last'))).toBe('0 * * * * a\n# last\n');
  });

  it('finds no entry of its own in a crontab it never touched: a commented-out line and a non-hex marker are not ours', () => {
    expect(gsyncEntries(parseCrontab(OTHERS))).toStrictEqual([]);
  });
});

describe('crontab editing: add, update, remove', () => {
  const before = parseCrontab(`${OTHERS}\n`);

  it('adds a new entry at the end and leaves every other line as it was', () => {
    const line = renderJobLine(job());
    const { crontab, replaced, changed } = upsertEntry(before, job().id, line);
    expect([replaced, changed]).toStrictEqual([false, true]);
    const text = renderCrontab(crontab);
    expect(text).toBe(`${OTHERS}\n${line}\n`);
    expect(gsyncEntries(crontab)).toStrictEqual([{ id: job().id, line }]);
  });

  it('adding the same job twice is idempotent: the second time changes nothing', () => {
    const line = renderJobLine(job());
    const once = upsertEntry(before, job().id, line).crontab;
    const twice = upsertEntry(once, job().id, line);
    expect(twice.changed).toBe(false);
    expect(renderCrontab(twice.crontab)).toBe(renderCrontab(once));
  });

  it('adding it again with another schedule updates the line in place', () => {
    const first = upsertEntry(before, job().id, renderJobLine(job())).crontab;
    const withOther = upsertEntry(first, 'aaaaaaaa', renderJobLine(job({ id: 'aaaaaaaa', destination: '/elsewhere' }))).crontab;
    const hourly = renderJobLine(job({ schedule: '0 * * * *' }));
    const { crontab, replaced, changed } = upsertEntry(withOther, job().id, hourly);
    expect([replaced, changed]).toStrictEqual([true, true]);
    expect(crontab.lines).toStrictEqual([...before.lines, hourly, withOther.lines.at(-1)]);
  });

  it('collapses copies of an entry pasted by hand into the first one', () => {
    const line = renderJobLine(job());
    const pasted = parseCrontab(`${line}\n# between\n${line}\n`);
    const updated = renderJobLine(job({ schedule: '0 0 * * *' }));
    expect(renderCrontab(upsertEntry(pasted, job().id, updated).crontab)).toBe(`${updated}\n# between\n`);
  });

  it('removes exactly that entry; the other lines are byte-identical to before the add', () => {
    const other = job({ id: 'aaaaaaaa', destination: '/elsewhere' });
    const added = upsertEntry(upsertEntry(before, job().id, renderJobLine(job())).crontab, other.id, renderJobLine(other)).crontab;
    const { crontab, removed } = removeEntry(added, job().id);
    expect(removed).toBe(1);
    expect(renderCrontab(crontab)).toBe(`${OTHERS}\n${renderJobLine(other)}\n`);
    const again = removeEntry(crontab, other.id);
    expect(renderCrontab(again.crontab)).toBe(`${OTHERS}\n`);
  });

  it('removing an id that is not there changes nothing', () => {
    const { crontab, removed } = removeEntry(before, 'deadbeef');
    expect(removed).toBe(0);
    expect(renderCrontab(crontab)).toBe(`${OTHERS}\n`);
  });
});

describe('the gsync line', () => {
  it('has the documented form', () => {
    expect(renderJobLine(job({ sshConfig: '/home/me/.ssh/cfg' }))).toBe(
      `*/15 * * * * '/usr/bin/node' '/opt/gsync/bin/run.js' pull 'gpu-box:runs/exp1' '/home/me/exp1' -F '/home/me/.ssh/cfg' --quiet --log-file '/home/me/exp1/.gsync/cron.log' # gsync:${jobId('gpu-box:runs/exp1', '/home/me/exp1')}`,
    );
  });

  it('has an id of 8 hex digits from the source and destination, the same every time', () => {
    const id = jobId('gpu:runs/x', '/home/me/x');
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(jobId('gpu:runs/x', '/home/me/x')).toBe(id);
    expect(jobId('gpu:runs/x/', '/home/me/x')).toBe(id);
    expect(jobId('gpu:runs/x', '/home/me/y')).not.toBe(id);
    expect(jobId('gpu:runs/y', '/home/me/x')).not.toBe(id);
    expect(jobId('gpu:/', '/m')).not.toBe(jobId('gpu:', '/m'));
  });

  const awkward: Array<{ description: string; text: string }> = [
    { description: 'spaces', text: '/home/me/my runs/exp 1' },
    { description: 'a single quote', text: "/home/me/it's" },
    { description: 'double quotes', text: '/home/me/"quoted"' },
    { description: 'a percent sign', text: '/home/me/50% done' },
    { description: 'percent signs in a row and at the end', text: '/home/me/%%x%' },
    { description: 'a backslash before a percent sign', text: '/home/me/a\\%b' },
    { description: 'a trailing backslash', text: '/home/me/x\\' },
    { description: 'a quote then a percent sign', text: "/home/me/'%'" },
    { description: 'shell syntax', text: '/home/me/$(touch pwned);`id`|&>*?[a]~{a,b}#x' },
    { description: 'a tab and UTF-8', text: '/home/me/tab\there/ü' },
  ];
  it.each(awkward)('carries a path with $description through cron and /bin/sh unchanged', ({ text }) => {
    // printf stands in for node: the shell hands it the words exactly as gsync would receive them.
    const line = renderJobLine(job({ node: '/usr/bin/printf', gsync: '<%s>\\n', source: `gpu:${text}`, destination: text, logFile: `${text}/.gsync/cron.log` }));
    const { command, stdin } = commandAsCronRunsIt(line);
    expect(stdin).toBe('');
    const out = execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(out).toBe(['pull', `gpu:${text}`, text, '--quiet', '--log-file', `${text}/.gsync/cron.log`].map((w) => `<${w}>\n`).join(''));
  });

  it('escapes every percent sign for cron', () => {
    const line = renderJobLine(job({ destination: '/a%b/%', source: 'h:%' }));
    expect(line.replace(/\\%/g, '')).not.toContain('%');
  });

  it('quotes a word as the shell reads it back', () => {
    const words = ["it's", '%', 'a b', ''];
    const out = execFileSync('/bin/sh', ['-c', `printf '<%s>' ${words.map(cronQuote).join(' ')}`.replace(/\\%/g, '%')], { encoding: 'utf8' });
    expect(out).toBe(words.map((w) => `<${w}>`).join(''));
  });

  it('reads back its id, schedule, source and destination', () => {
    const awkwardJob = job({ source: "gpu:it's 100% done", destination: "/home/me/it's 100% done", sshConfig: '/c f' });
    expect(readJobLine(renderJobLine(awkwardJob))).toStrictEqual({
      id: awkwardJob.id,
      schedule: '*/15 * * * *',
      source: "gpu:it's 100% done",
      destination: "/home/me/it's 100% done",
    });
  });

  it('still lists a line edited by hand past reading, by id and schedule', () => {
    expect(readJobLine("0 * * * * sh -c 'unclosed # gsync:abcdef01")).toStrictEqual({ id: 'abcdef01', schedule: '0 * * * *', source: undefined, destination: undefined });
  });

  it('refuses a path with a line break, which no crontab line can carry', () => {
    expect(() => renderJobLine(job({ destination: '/home/me/a\nb' }))).toThrow(GsyncError);
    expect(() => renderJobLine(job({ source: 'gpu:a\rb' }))).toThrow(/line break or NUL/);
  });

  it(`refuses a command longer than cron takes (${MAX_COMMAND_LENGTH} characters)`, () => {
    const long = `/home/${'d'.repeat(450)}`;
    let caught: unknown;
    try {
      renderJobLine(job({ destination: long, logFile: `${long}/.gsync/cron.log` }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GsyncError);
    expect((caught as GsyncError).kind).toBe('usage');
    expect((caught as GsyncError).message).toMatch(/cron takes at most 998/);
  });
});
