/**
 * One scenario's cells as a plain-text table: monospace, column-aligned, no colour, so it reads
 * the same in a terminal, a log file and a pasted issue comment. Pure.
 */
import type { ScenarioName } from '../types.js';
import { byDataset, GSYNC, type CellSummary } from './summarize.js';

interface Column {
  readonly title: string;
  /** Numbers right, so their decimal points line up; text left. */
  readonly align: 'left' | 'right';
  readonly value: (cell: CellSummary) => string;
}

const MiB = 1024 * 1024;
const GAP = '  ';

const COLUMNS: readonly Column[] = [
  { title: 'dataset', align: 'left', value: (cell) => cell.dataset },
  { title: 'tool', align: 'left', value: (cell) => plain(cell.tool) },
  // A cell with any failed rep shows its status, not a time: a median over the reps that happened
  // to succeed would read as a result.
  { title: 'wall s', align: 'right', value: (cell) => (cell.status === 'ok' ? fixed(cell.wallSeconds, 2) : cell.status) },
  { title: '×gsync', align: 'right', value: (cell) => (cell.tool === GSYNC ? '—' : fixed(cell.ratioToGsync, 2)) },
  { title: 'durable s', align: 'right', value: (cell) => (cell.status === 'ok' ? fixed(cell.durableSeconds, 2) : '—') },
  { title: 'wire MiB', align: 'right', value: (cell) => fixed(scaled(cell.wireBytes, MiB), 1) },
  { title: 'CPU s', align: 'right', value: (cell) => fixed(cell.cpuSeconds, 2) },
  { title: 'RSS MiB', align: 'right', value: (cell) => fixed(scaled(cell.maxRssKiB, 1024), 0) },
  { title: 'reps', align: 'right', value: (cell) => (cell.okReps === cell.reps ? `${cell.reps}` : `${cell.okReps}/${cell.reps}`) },
];

/** Only a resume re-sends anything; elsewhere the column would be all dashes. */
const RESENT: Column = { title: 'resent MiB', align: 'right', value: (cell) => fixed(scaled(cell.resentBytes, MiB), 1) };

/**
 * The table of `scenario`'s cells (cells of other scenarios are ignored), in the given order,
 * with a blank line between datasets: a title line `== <scenario> ==`, a header, the rows, a
 * note on reading ×gsync, and one line per cell that is not ok saying why. Ends with a newline.
 */
export function renderTable(scenario: ScenarioName, cells: readonly CellSummary[]): string {
  const title = `== ${scenario} ==`;
  const mine = cells.filter((cell) => cell.scenario === scenario);
  if (mine.length === 0) return `${title}\n(no results)\n`;

  const columns = scenario === 'resume' ? [...COLUMNS, RESENT] : COLUMNS;
  // null marks the blank line between two datasets.
  const body: Array<readonly string[] | null> = [];
  for (const group of byDataset(mine).values()) {
    if (body.length > 0) body.push(null);
    for (const cell of group) body.push(columns.map((column) => column.value(cell)));
  }

  const widths = columns.map((column, i) => Math.max(column.title.length, ...body.map((texts) => texts?.[i]?.length ?? 0)));
  const line = (texts: readonly string[]): string =>
    texts
      .map((text, i) => (columns[i]?.align === 'right' ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0)))
      .join(GAP)
      .trimEnd();

  const lines = [title, line(columns.map((column) => column.title)), line(widths.map((width) => '-'.repeat(width)))];
  for (const texts of body) lines.push(texts === null ? '' : line(texts));
  lines.push('', "×gsync: wall ÷ gsync's wall; above 1 gsync was faster, below 1 it was slower.");
  lines.push("durable s: wall + a sync of the copies' file system as the tool exited (the writeback it left; gsync syncs before it exits).");

  const failures = mine.filter((cell) => cell.status !== 'ok');
  if (failures.length > 0) lines.push('');
  for (const cell of failures) {
    lines.push(`  ${cell.status} ${cell.dataset}/${plain(cell.tool)}: ${cell.detail === '' ? '(no detail)' : plain(cell.detail)}`);
  }
  return `${lines.join('\n')}\n`;
}

function fixed(value: number | null, digits: number): string {
  return value === null ? '—' : value.toFixed(digits);
}

function scaled(value: number | null, unit: number): number | null {
  return value === null ? null : value / unit;
}

/**
 * Tool names and details come from other programs' output: control characters become '?' so
 * none can move the cursor or break the alignment.
 */
function plain(text: string): string {
  return [...text].map((c) => (isControl(c.charCodeAt(0)) ? '?' : c)).join('');
}

function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}
