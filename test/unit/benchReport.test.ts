import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChart } from '../../bench/report/chart.js';
import { median, summarize, type CellSummary } from '../../bench/report/summarize.js';
import { renderTable } from '../../bench/report/table.js';
import { appendRows, parseTsv, rowToTsv, TSV_HEADER } from '../../bench/report/tsv.js';
import type { Row } from '../../bench/types.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

const MiB = 1024 * 1024;
const base: Row = {
  runId: '2025-06-01T12:00:00.000Z', scenario: 'full', dataset: 'big', tool: 'gsync', rep: 1, status: 'ok', detail: '',
  wallSeconds: 2, userSeconds: 0.5, sysSeconds: 0.25, maxRssKiB: 51_200, downBytes: 100 * MiB, upBytes: 0, resentBytes: null,
  syncSeconds: 0.5,
};
const row = (changes: Partial<Row>): Row => ({ ...base, ...changes });
/** One ok rep of `tool` per given wall time, numbered from 1. */
const reps = (tool: string, walls: number[], changes: Partial<Row> = {}): Row[] =>
  walls.map((wallSeconds, i) => row({ tool, wallSeconds, rep: i + 1, ...changes }));
const key = (cell: CellSummary): string => `${cell.scenario}/${cell.dataset}/${cell.tool}`;
const cellOf = (cells: CellSummary[], wanted: string): CellSummary | undefined => cells.find((c) => key(c) === wanted);

describe('median', () => {
  const rows: Array<{ description: string; values: number[]; want: number | null }> = [
    { description: 'no values has no median', values: [], want: null },
    { description: 'one value is its own median', values: [7], want: 7 },
    { description: 'odd count: the middle of the sorted values', values: [3, 1, 2], want: 2 },
    { description: 'odd count: an outlier does not move it', values: [2, 2, 900], want: 2 },
    { description: 'even count: the mean of the two middle values', values: [4, 1, 3, 2], want: 2.5 },
    { description: 'sorts numerically, not as strings', values: [10, 9, 100], want: 10 },
  ];
  it.each(rows)('$description', ({ values, want }) => {
    expect(median(values)).toBe(want);
  });
});

describe('summarize', () => {
  it('takes medians over reps: wall, cpu as user+sys, wire as down+up', () => {
    const [cell] = summarize([
      row({ rep: 1, wallSeconds: 3, userSeconds: 1, sysSeconds: 0.5, maxRssKiB: 300, downBytes: 1000, upBytes: 10 }),
      row({ rep: 2, wallSeconds: 1, userSeconds: 2, sysSeconds: 1, maxRssKiB: 100, downBytes: 3000, upBytes: 30 }),
      row({ rep: 3, wallSeconds: 2, userSeconds: 0.5, sysSeconds: 0.5, maxRssKiB: 200, downBytes: 2000, upBytes: 20 }),
    ]);
    expect(cell).toMatchObject({ reps: 3, okReps: 3, status: 'ok', detail: '', wallSeconds: 2, cpuSeconds: 1.5, maxRssKiB: 200 });
    expect(cell).toMatchObject({ wireBytes: 2020, downBytes: 2000, upBytes: 20, resentBytes: null, ratioToGsync: 1 });
  });

  it('takes durable as the median of wall + sync over the reps that measured the sync, null if none did', () => {
    const cells = summarize([
      row({ rep: 1, wallSeconds: 3, syncSeconds: 0.1 }), row({ rep: 2, wallSeconds: 1, syncSeconds: 5 }),
      row({ rep: 3, wallSeconds: 2, syncSeconds: null }), row({ rep: 4, wallSeconds: 9, syncSeconds: 0, status: 'FAIL' }),
      row({ tool: 'rsync', syncSeconds: null }),
    ]);
    // 3.1 and 6 (the FAIL rep and the rep without a sync left out): their mean.
    expect(cellOf(cells, 'full/big/gsync')?.durableSeconds).toBeCloseTo(4.55, 10);
    expect(cellOf(cells, 'full/big/rsync')?.durableSeconds).toBeNull();
  });

  it('takes the mean of the middle two for an even number of reps', () => {
    expect(summarize(reps('gsync', [1, 10, 3, 2]))[0]?.wallSeconds).toBe(2.5);
  });

  it('divides by gsync: above 1 the tool was slower, below 1 faster, per scenario and dataset', () => {
    const cells = summarize([
      ...reps('gsync', [2, 2, 2]), ...reps('rsync', [4, 5, 3]), ...reps('scp', [1, 1, 1]),
      ...reps('gsync', [10], { dataset: 'small' }), ...reps('rsync', [5], { dataset: 'small' }),
      ...reps('rsync', [6], { scenario: 'noop' }),
    ]);
    expect(cellOf(cells, 'full/big/rsync')?.ratioToGsync).toBe(2);
    expect(cellOf(cells, 'full/big/scp')?.ratioToGsync).toBe(0.5);
    expect(cellOf(cells, 'full/small/rsync')?.ratioToGsync).toBe(0.5);
    expect(cellOf(cells, 'noop/big/rsync')?.ratioToGsync).toBeNull(); // no gsync in noop
  });

  it('has no ratio when gsync or the tool failed', () => {
    const cells = summarize([
      ...reps('gsync', [2, 2]), ...reps('rsync', [4]), row({ tool: 'rsync', rep: 2, status: 'FAIL', detail: 'exit 23' }),
      ...reps('gsync', [2], { dataset: 'small', status: 'TIMEOUT' }), ...reps('rsync', [4], { dataset: 'small' }),
    ]);
    expect(cellOf(cells, 'full/big/rsync')?.ratioToGsync).toBeNull();
    expect(cellOf(cells, 'full/small/rsync')?.ratioToGsync).toBeNull();
    expect(cellOf(cells, 'full/small/gsync')?.ratioToGsync).toBeNull();
  });

  it('gives a failed cell the first non-ok status and detail, and medians over its ok reps only', () => {
    const [cell, none] = summarize([
      row({ rep: 1, wallSeconds: 3 }), row({ rep: 2, wallSeconds: 600, status: 'TIMEOUT', detail: 'killed after 600 s' }),
      row({ rep: 3, wallSeconds: 0.1, status: 'FAIL', detail: 'exit 23' }), row({ rep: 4, wallSeconds: 5 }),
      row({ tool: 'rsync', status: 'ERROR', detail: 'no such host' }),
    ]);
    expect(cell).toMatchObject({ reps: 4, okReps: 2, status: 'TIMEOUT', detail: 'killed after 600 s', wallSeconds: 4 });
    // With no ok rep there is nothing to take a median of.
    expect(none).toMatchObject({ okReps: 0, status: 'ERROR', wallSeconds: null, cpuSeconds: null, wireBytes: null, ratioToGsync: null });
  });

  it('takes resentBytes as the median over the ok reps that report it, else null', () => {
    const resume = (changes: Partial<Row>): Row => row({ scenario: 'resume', ...changes });
    const cells = summarize([
      resume({ rep: 1, resentBytes: 900 }), resume({ rep: 2, resentBytes: 100 }), resume({ rep: 3, resentBytes: 200 }),
      resume({ rep: 4, resentBytes: 5, status: 'FAIL', detail: 'bad copy' }),
      resume({ tool: 'rsync', resentBytes: null }), resume({ tool: 'rsync', rep: 2, resentBytes: 0 }),
      resume({ tool: 'scp', resentBytes: null }),
    ]);
    expect(cellOf(cells, 'resume/big/gsync')?.resentBytes).toBe(200);
    expect(cellOf(cells, 'resume/big/rsync')?.resentBytes).toBe(0);
    expect(cellOf(cells, 'resume/big/scp')?.resentBytes).toBeNull();
  });

  it('orders scenarios and datasets by first appearance, gsync first, then tools by first appearance', () => {
    const cells = summarize([
      row({ scenario: 'noop', dataset: 'small', tool: 'scp' }), row({ scenario: 'noop', dataset: 'small', tool: 'rsync' }),
      row({ scenario: 'full', dataset: 'mixed', tool: 'rclone-t8' }), row({ scenario: 'noop', dataset: 'small', tool: 'gsync' }),
      row({ scenario: 'noop', dataset: 'big', tool: 'rsync' }), row({ scenario: 'noop', dataset: 'small', tool: 'scp', rep: 2 }),
    ]);
    expect(cells.map(key)).toEqual(['noop/small/gsync', 'noop/small/scp', 'noop/small/rsync', 'noop/big/rsync', 'full/mixed/rclone-t8']);
  });
});

describe('tsv', () => {
  const rows: Row[] = [
    base,
    row({ tool: 'rsync-partial', rep: 2, wallSeconds: 1.2345678, userSeconds: 0, downBytes: 123_456_789, upBytes: 42 }),
    row({ scenario: 'resume', dataset: 'small100', tool: 'lftp-pget', resentBytes: 0 }),
    row({ scenario: 'resume', dataset: 'small100', tool: 'gsync', resentBytes: 4096 }),
    row({ tool: 'scp', status: 'FAIL', detail: 'exit 1:\tPermission denied\nretrying', wallSeconds: 0.01 }),
    row({ tool: 'sftp', status: 'ERROR', detail: 'no sshd', syncSeconds: null }),
  ];

  it('writes one field per header column, null resentBytes and syncSeconds as empty fields', () => {
    const fields = rowToTsv(base).split('\t');
    expect(fields).toHaveLength(TSV_HEADER.length);
    expect(fields.slice(0, 8)).toEqual(['2025-06-01T12:00:00.000Z', 'full', 'big', 'gsync', '1', 'ok', '', '2']);
    expect(fields.slice(-2)).toEqual(['', '0.5']);
    expect(rowToTsv(row({ syncSeconds: null })).split('\t').at(-1)).toBe('');
    expect(TSV_HEADER).toEqual(Object.keys(base));
  });

  it('round-trips rows, with tabs and newlines in the detail turned to spaces', () => {
    const text = `${TSV_HEADER.join('\t')}\n${rows.map(rowToTsv).join('\n')}\n`;
    const want = rows.map((r) => (r.tool === 'scp' ? { ...r, detail: 'exit 1: Permission denied retrying' } : r));
    expect(parseTsv(text)).toEqual(want);
  });

  it('reads results written before syncSeconds (a field fewer, and their header) with it null', () => {
    const earlier = (line: string): string => line.split('\t').slice(0, -1).join('\t');
    const text = `${earlier(TSV_HEADER.join('\t'))}\n${earlier(rowToTsv(base))}\n`;
    expect(parseTsv(text)).toEqual([{ ...base, syncSeconds: null }]);
  });

  it('skips blank and repeated header lines, so concatenated files parse', () => {
    const file = `${TSV_HEADER.join('\t')}\r\n${rowToTsv(base)}\r\n`;
    expect(parseTsv(`${file}\n${file}`)).toEqual([base, base]);
  });

  const bad: Array<{ description: string; line: string; error: RegExp }> = [
    { description: 'too few fields', line: rowToTsv(base).split('\t').slice(0, 10).join('\t'), error: /line 2: expected 15 .*found 10/ },
    { description: 'an unknown status', line: rowToTsv(base).replace('\tok\t', '\tmaybe\t'), error: /line 2: status "maybe"/ },
    { description: 'an unknown scenario', line: rowToTsv(base).replace('\tfull\t', '\twan99\t'), error: /line 2: scenario "wan99"/ },
    { description: 'a rep of zero', line: rowToTsv(base).replace('\tgsync\t1\t', '\tgsync\t0\t'), error: /line 2: rep "0"/ },
    { description: 'a wall time that is not a number', line: rowToTsv(base).replace('\t\t2\t', '\t\tabc\t'), error: /line 2: wallSeconds "abc"/ },
    { description: 'an empty measurement', line: rowToTsv(base).replace('\t\t2\t', '\t\t\t'), error: /line 2: wallSeconds ""/ },
  ];
  it.each(bad)('rejects $description, naming the line', ({ line, error }) => {
    expect(() => parseTsv(`${rowToTsv(base)}\n${line}\n`)).toThrow(error);
  });

  it('refuses to write a non-finite measurement', () => {
    expect(() => rowToTsv(row({ wallSeconds: Number.NaN }))).toThrow(/wallSeconds is NaN/);
  });

  it('appendRows creates parent directories and the header once, appends, and refuses another header', async () => {
    const dir = await makeTempDir('gsync-bench-report-');
    try {
      const path = join(dir, 'results', 'deep', 'run.tsv');
      await appendRows(path, rows.slice(0, 2));
      await appendRows(path, rows.slice(2));
      const text = await readFile(path, 'utf8');
      expect(text.startsWith(`${TSV_HEADER.join('\t')}\n`)).toBe(true);
      expect(text.split('\n').filter((line) => line.startsWith('runId'))).toHaveLength(1);
      expect(parseTsv(text)).toEqual(parseTsv(rows.map(rowToTsv).join('\n')));

      const old = join(dir, 'old.tsv');
      await writeFile(old, 'runId\tscenario\n');
      await expect(appendRows(old, [base])).rejects.toThrow(/does not start with the bench results header/);
      expect(await readFile(old, 'utf8')).toBe('runId\tscenario\n');
    } finally {
      await removeTempDir(dir);
    }
  });
});

/** Cells of a table line, split on the two-space column gap. */
const columnsOf = (line: string): string[] => line.trim().split(/ {2,}/);

const fullRun: Row[] = [
  ...reps('gsync', [2, 2, 2], { userSeconds: 0.5, sysSeconds: 0.25 }),
  ...reps('rsync', [4, 4, 4], { downBytes: 150 * MiB, upBytes: 0.5 * MiB, maxRssKiB: 10_240 }),
  ...reps('scp', [3, 3]), row({ tool: 'scp', rep: 3, status: 'FAIL', detail: 'exit 1: lost connection' }),
  ...reps('gsync', [0.5], { dataset: 'mixed' }), ...reps('a<b&c', [1], { dataset: 'mixed' }),
];

describe('renderTable', () => {
  const lines = renderTable('full', summarize(fullRun)).split('\n');

  it('has a title, the columns in order and each cell computed', () => {
    expect(lines[0]).toBe('== full ==');
    expect(columnsOf(lines[1] ?? '')).toEqual(['dataset', 'tool', 'wall s', '×gsync', 'durable s', 'wire MiB', 'CPU s', 'RSS MiB', 'reps']);
    const body = lines.map(columnsOf);
    expect(body).toContainEqual(['big', 'gsync', '2.00', '—', '2.50', '100.0', '0.75', '50', '3']);
    expect(body).toContainEqual(['big', 'rsync', '4.00', '2.00', '4.50', '150.5', '0.75', '10', '3']);
    expect(body).toContainEqual(['mixed', 'a<b&c', '1.00', '2.00', '1.50', '100.0', '0.75', '50', '1']);
    expect(lines).toContain("durable s: wall + a sync of the copies' file system as the tool exited (the writeback it left; gsync syncs before it exits).");
  });

  it('shows a failed cell as its status with ok/total reps, and explains it below', () => {
    expect(lines.map(columnsOf)).toContainEqual(['big', 'scp', 'FAIL', '—', '—', '100.0', '0.75', '50', '2/3']);
    expect(lines).toContain('  FAIL big/scp: exit 1: lost connection');
  });

  it('aligns columns, numbers right, with a blank line between datasets', () => {
    const header = lines[1] ?? '';
    const table = lines.slice(1, lines.findIndex((line) => line.startsWith('×gsync:')) - 1);
    // header, rule, 3 big rows, a blank line, 2 mixed rows; the last column is right-aligned, so
    // every row is as long as the header.
    expect(table.map((line) => line.length)).toEqual([...Array(5).fill(header.length), 0, header.length, header.length]);
    // 'wall s' is right-aligned too: the values end where its title ends.
    const wallEnd = header.indexOf('wall s') + 'wall s'.length;
    expect(table.slice(2).map((line) => line.slice(wallEnd - 4, wallEnd))).toEqual(['2.00', '4.00', 'FAIL', '', '0.50', '1.00']);
  });

  it('has a resent MiB column only for resume, and ignores other scenarios', () => {
    expect(renderTable('noop', summarize(fullRun))).toBe('== noop ==\n(no results)\n');
    expect(lines.join('\n')).not.toContain('resent');
    const resume = renderTable('resume', summarize([...reps('gsync', [2], { scenario: 'resume', resentBytes: 1.5 * MiB }), ...reps('rsync', [3], { scenario: 'resume' })]));
    const resumeLines = resume.split('\n').map(columnsOf);
    expect(resumeLines[1]?.at(-1)).toBe('resent MiB');
    expect(resumeLines).toContainEqual(['big', 'gsync', '2.00', '—', '2.50', '100.0', '0.75', '50', '1', '1.5']);
    expect(resumeLines).toContainEqual(['big', 'rsync', '3.00', '1.50', '3.50', '100.0', '0.75', '50', '1', '—']);
  });
});

/** XML well-formedness, roughly: tags balance, one root, no raw `<`, `>` or stray `&` in text or attributes. */
function expectWellFormed(svg: string): void {
  const textPart = /^(?:[^<>&]|&(?:amp|lt|gt|quot|apos);)*$/;
  const tag = /^<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="(?:[^"<>&]|&(?:amp|lt|gt|quot|apos);)*")*)\s*(\/?)>$/;
  const open: string[] = [];
  let roots = 0;
  // split with a capturing group alternates text (even indices) and tags (odd indices).
  svg.split(/(<[^>]*>)/).forEach((piece, i) => {
    if (i % 2 === 0) return expect(piece, 'text between tags').toMatch(textPart);
    const [, closing, name, , selfClosing] = tag.exec(piece) ?? expect.fail(`not a well-formed tag: ${piece}`);
    if (open.length === 0) roots++;
    if (closing === '/') expect(open.pop(), piece).toBe(name);
    else if (selfClosing !== '/') open.push(name ?? '');
  });
  expect({ open, roots }).toEqual({ open: [], roots: 1 });
}

const rectWidths = (svg: string): number[] => [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));

describe('renderChart', () => {
  const withDetail = [...fullRun, row({ dataset: 'mixed', tool: 'sftp', status: 'ERROR', detail: 'x < y & "z"' })];
  const svg = renderChart('full', summarize(withDetail));

  it('is a well-formed standalone SVG document with the title', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>\n')).toBe(true);
    expectWellFormed(svg);
    expect(svg).toContain('gsync bench — full — wall time, median (lower is better)');
  });

  it('escapes tool names and details', () => {
    expect(svg).toContain('>a&lt;b&amp;c</text>');
    expect(svg).toContain('ERROR: x &lt; y &amp; &quot;z&quot;');
    expect(svg).not.toContain('a<b');
  });

  it('draws one bar per ok cell, gsync highlighted once per dataset, failures as red text', () => {
    // ok: big/gsync, big/rsync, mixed/gsync, mixed/a<b&c. Not ok: big/scp, mixed/sftp.
    expect(svg.match(/<rect /g)).toHaveLength(4);
    expect(svg.match(/#d9480f/g)).toHaveLength(2);
    expect(svg).toMatch(/fill="#e03131">FAIL: exit 1: lost connection<\/text>/);
    expect(svg).toContain('>4.00 s<tspan dx="8" fill="#495057">×2.00</tspan>');
  });

  it('does not highlight a dataset whose gsync cell failed', () => {
    const chart = renderChart('full', summarize([...fullRun, ...reps('gsync', [1], { dataset: 'small', status: 'FAIL' }), ...reps('rsync', [1], { dataset: 'small' })]));
    expect(chart.match(/#d9480f/g)).toHaveLength(2);
    expect(chart.match(/<rect /g)).toHaveLength(5);
  });

  it('scales each dataset on its own: each group’s slowest bar has the same full width', () => {
    const chart = renderChart('scale', summarize([
      ...reps('gsync', [1000], { scenario: 'scale', dataset: 'million' }), ...reps('rsync', [500], { scenario: 'scale', dataset: 'million' }),
      ...reps('gsync', [0.5], { scenario: 'scale', dataset: 'small' }), ...reps('rsync', [2], { scenario: 'scale', dataset: 'small' }),
    ]));
    const [millionGsync, millionRsync, smallGsync, smallRsync] = rectWidths(chart);
    expect(millionRsync).toBeCloseTo((millionGsync ?? 0) / 2, 0);
    expect(smallRsync).toBe(millionGsync);
    expect(smallGsync).toBeCloseTo((smallRsync ?? 0) / 4, 0);
  });

});
