/**
 * Results as TSV, one Row per line: appended as each rep finishes, so a crashed bench keeps what
 * it measured, and parsed back so a later run can re-render tables and charts from old results.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CellStatus, DatasetName, Row, ScenarioName } from '../types.js';

/** The column names: one per Row field, in the Row's order. */
export const TSV_HEADER = [
  'runId',
  'scenario',
  'dataset',
  'tool',
  'rep',
  'status',
  'detail',
  'wallSeconds',
  'userSeconds',
  'sysSeconds',
  'maxRssKiB',
  'downBytes',
  'upBytes',
  'resentBytes',
  'syncSeconds',
] as const satisfies readonly (keyof Row)[];

type Column = (typeof TSV_HEADER)[number];
type NumericColumn = 'wallSeconds' | 'userSeconds' | 'sysSeconds' | 'maxRssKiB' | 'downBytes' | 'upBytes';

/** `true` only when `Listed` names every member of `All`: a field added to Row fails to compile below. */
type Covers<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false;

const SCENARIOS = ['full', 'noop', 'incr', 'resume', 'wan10', 'wan50', 'wan50cap', 'scale', 'scale-noop'] as const satisfies readonly ScenarioName[];
const DATASETS = ['big', 'small', 'mixed', 'small100', 'million'] as const satisfies readonly DatasetName[];
const STATUSES = ['ok', 'FAIL', 'TIMEOUT', 'ERROR'] as const satisfies readonly CellStatus[];

const _headerCoversRow: Covers<keyof Row, Column> = true;
const _scenariosCovered: Covers<ScenarioName, (typeof SCENARIOS)[number]> = true;
const _datasetsCovered: Covers<DatasetName, (typeof DATASETS)[number]> = true;
const _statusesCovered: Covers<CellStatus, (typeof STATUSES)[number]> = true;

const HEADER_LINE = TSV_HEADER.join('\t');
/** Results written before syncSeconds was measured: every column but that last one. */
const EARLIER_HEADER_LINE = TSV_HEADER.slice(0, -1).join('\t');

/**
 * One Row as a TSV line, without the newline. `resentBytes` or `syncSeconds` null is an empty
 * field; tabs and line breaks inside text fields become spaces (the format has no quoting).
 * Throws on a non-finite number in an ok row (a failed rep's missing numbers are empty fields),
 * so whatever is written here is read back by {@link parseTsv}: a NaN from a botched
 * measurement surfaces at the rep that made it, not when old results are re-read.
 */
export function rowToTsv(row: Row): string {
  return TSV_HEADER.map((name) => {
    const value = row[name];
    if (value === null) return '';
    if (typeof value === 'string') return value.replace(/[\t\r\n]/g, ' ');
    // A rep that failed before it was measured has no numbers: an empty field, read back as NaN.
    if (!Number.isFinite(value) && row.status !== 'ok') return '';
    if (!Number.isFinite(value)) {
      throw new Error(`rowToTsv: ${name} is ${value} (${row.scenario}/${row.dataset}/${row.tool} rep ${row.rep})`);
    }
    return String(value);
  }).join('\t');
}

/**
 * Appends `rows` to the results file at `path`, creating it (with the header line) and its
 * parent directories when absent. Refuses a non-empty file that does not start with this
 * header: appending to results with another column set would make both unreadable.
 */
export async function appendRows(path: string, rows: readonly Row[]): Promise<void> {
  // Format first, so a bad row throws before the file is touched.
  const lines = rows.map((row) => `${rowToTsv(row)}\n`).join('');
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'a+');
  try {
    const { size } = await file.stat();
    if (size > 0) await expectHeader(file, path);
    // An existing but empty file (say, touched by hand) needs the header too.
    await file.appendFile(size === 0 ? `${HEADER_LINE}\n${lines}` : lines);
  } finally {
    await file.close();
  }
}

async function expectHeader(file: FileHandle, path: string): Promise<void> {
  const want = `${HEADER_LINE}\n`;
  const buffer = Buffer.alloc(Buffer.byteLength(want));
  const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
  if (buffer.subarray(0, bytesRead).toString('utf8') !== want) {
    throw new Error(`${path}: does not start with the bench results header; not appending to it`);
  }
}

/**
 * Rows from the text of a results file. Header lines and blank lines are skipped wherever they
 * appear, so concatenated result files parse too; lines of the layout before syncSeconds (one
 * field fewer) read with it null. Throws an Error naming the 1-based line number
 * on a line with the wrong number of fields, an unknown scenario, dataset or status, a rep that
 * is not a positive integer, or a measurement that is not a non-negative number.
 */
export function parseTsv(text: string): Row[] {
  const rows: Row[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line === HEADER_LINE || line === EARLIER_HEADER_LINE) return;
    rows.push(parseLine(line, index + 1));
  });
  return rows;
}

function parseLine(line: string, lineNumber: number): Row {
  const fields = line.split('\t');
  if (fields.length !== TSV_HEADER.length && fields.length !== TSV_HEADER.length - 1) {
    throw lineError(lineNumber, `expected ${TSV_HEADER.length} tab-separated fields, found ${fields.length}`);
  }
  const field = Object.fromEntries(TSV_HEADER.map((name, i) => [name, fields[i] ?? ''])) as Record<Column, string>;

  const choice = <T extends string>(name: Column, allowed: readonly T[]): T => {
    const text = field[name];
    if (!isOneOf(text, allowed)) throw lineError(lineNumber, `${name} ${JSON.stringify(text)} is not one of ${allowed.join(', ')}`);
    return text;
  };
  const amount = (name: NumericColumn | 'resentBytes' | 'syncSeconds'): number => {
    const text = field[name];
    if (text === '' && field.status !== 'ok' && name !== 'resentBytes') return NaN;
    const value = Number(text);
    // Number('') and Number(' ') are 0: an empty measurement must not read as a perfect one.
    if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
      throw lineError(lineNumber, `${name} ${JSON.stringify(text)} is not a non-negative number`);
    }
    return value;
  };

  const rep = Number(field.rep);
  if (!Number.isInteger(rep) || rep < 1) throw lineError(lineNumber, `rep ${JSON.stringify(field.rep)} is not a positive integer`);
  if (field.tool === '') throw lineError(lineNumber, 'tool is empty');

  return {
    runId: field.runId,
    scenario: choice('scenario', SCENARIOS),
    dataset: choice('dataset', DATASETS),
    tool: field.tool,
    rep,
    status: choice('status', STATUSES),
    detail: field.detail,
    wallSeconds: amount('wallSeconds'),
    userSeconds: amount('userSeconds'),
    sysSeconds: amount('sysSeconds'),
    maxRssKiB: amount('maxRssKiB'),
    downBytes: amount('downBytes'),
    upBytes: amount('upBytes'),
    resentBytes: field.resentBytes === '' ? null : amount('resentBytes'),
    syncSeconds: field.syncSeconds === '' ? null : amount('syncSeconds'),
  };
}

function isOneOf<T extends string>(text: string, allowed: readonly T[]): text is T {
  return (allowed as readonly string[]).includes(text);
}

function lineError(lineNumber: number, why: string): Error {
  return new Error(`bench results TSV, line ${lineNumber}: ${why}`);
}
