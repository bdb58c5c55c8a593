/**
 * Reduces measured reps to table cells: one cell per (scenario, dataset, tool), medians over the
 * reps that succeeded, and each tool's wall time relative to gsync's. Pure.
 */
import type { CellStatus, DatasetName, Row, ScenarioName } from '../types.js';

/** The tool every other tool is compared with. */
export const GSYNC = 'gsync';

/** The reps of one tool on one dataset in one scenario, reduced to what a table shows. */
export interface CellSummary {
  readonly scenario: ScenarioName;
  readonly dataset: DatasetName;
  readonly tool: string;
  /** Reps measured. */
  readonly reps: number;
  /** Reps whose status is ok; every median below is over these alone. */
  readonly okReps: number;
  /** ok when every rep was ok, else the status of the first non-ok rep (in input order). */
  readonly status: CellStatus;
  /** Why the first non-ok rep was not ok; '' when the cell is ok. */
  readonly detail: string;
  /** Median wall time; null when no rep was ok (likewise for the other medians). */
  readonly wallSeconds: number | null;
  /** Median of user + sys time. */
  readonly cpuSeconds: number | null;
  readonly maxRssKiB: number | null;
  /** Median of down + up bytes. */
  readonly wireBytes: number | null;
  readonly downBytes: number | null;
  readonly upBytes: number | null;
  /** Median over the ok reps that report it (resume only); null when none does. */
  readonly resentBytes: number | null;
  /**
   * Median of wall + the sync after it (Row.syncSeconds), over the ok reps that measured the
   * sync: the time until the copy was on disk. null when none did.
   */
  readonly durableSeconds: number | null;
  /**
   * Median wall ÷ gsync's median wall on the same scenario and dataset: > 1 means this tool was
   * slower than gsync (gsync wins), < 1 that it was faster (gsync loses); gsync's own is 1. null
   * when there is no gsync cell, or either cell is not ok.
   */
  readonly ratioToGsync: number | null;
}

type Measured = Omit<CellSummary, 'ratioToGsync'>;

/**
 * One cell per (scenario, dataset, tool) seen in `rows`. Order: scenarios as they first appear,
 * within a scenario datasets as they first appear, within a dataset gsync first and then the
 * other tools as they first appear. Rows of different runs are not told apart: pass one run's.
 */
export function summarize(rows: readonly Row[]): CellSummary[] {
  // Maps keep insertion order, which is the first-appearance order wanted.
  const tree = new Map<ScenarioName, Map<DatasetName, Map<string, Row[]>>>();
  for (const row of rows) {
    const datasets = getOrAdd(tree, row.scenario, () => new Map<DatasetName, Map<string, Row[]>>());
    const tools = getOrAdd(datasets, row.dataset, () => new Map<string, Row[]>());
    getOrAdd(tools, row.tool, () => []).push(row);
  }

  const cells: CellSummary[] = [];
  for (const datasets of tree.values()) {
    for (const tools of datasets.values()) {
      const measured = [...tools.values()].map(measure);
      const gsync = measured.find((cell) => cell.tool === GSYNC);
      const ordered = gsync === undefined ? measured : [gsync, ...measured.filter((cell) => cell !== gsync)];
      for (const cell of ordered) cells.push({ ...cell, ratioToGsync: ratio(cell, gsync) });
    }
  }
  return cells;
}

/**
 * The cells grouped by dataset, groups in first-appearance order and cells in their given order
 * within each: what a renderer draws with a gap (and, in a chart, a scale) per dataset.
 */
export function byDataset(cells: readonly CellSummary[]): Map<DatasetName, CellSummary[]> {
  const groups = new Map<DatasetName, CellSummary[]>();
  for (const cell of cells) getOrAdd(groups, cell.dataset, () => []).push(cell);
  return groups;
}

/** The middle value of `values`, the mean of the two middle ones for an even count; null for none. */
export function median(values: readonly number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle];
  if (upper === undefined) return null;
  if (sorted.length % 2 === 1) return upper;
  const lower = sorted[middle - 1] ?? upper;
  return (lower + upper) / 2;
}

/** `reps` are the rows of one cell, non-empty. */
function measure(reps: readonly Row[]): Measured {
  const first = reps[0];
  if (first === undefined) throw new Error('measure: a cell without reps');
  const ok = reps.filter((rep) => rep.status === 'ok');
  const failed = reps.find((rep) => rep.status !== 'ok');
  // Failed reps are left out of every median: a timeout's wall time or a crash's byte count
  // measures the failure, not the tool.
  const over = (value: (rep: Row) => number): number | null => median(ok.map(value));
  return {
    scenario: first.scenario,
    dataset: first.dataset,
    tool: first.tool,
    reps: reps.length,
    okReps: ok.length,
    status: failed?.status ?? 'ok',
    detail: failed?.detail ?? '',
    wallSeconds: over((rep) => rep.wallSeconds),
    cpuSeconds: over((rep) => rep.userSeconds + rep.sysSeconds),
    maxRssKiB: over((rep) => rep.maxRssKiB),
    wireBytes: over((rep) => rep.downBytes + rep.upBytes),
    downBytes: over((rep) => rep.downBytes),
    upBytes: over((rep) => rep.upBytes),
    resentBytes: median(ok.flatMap((rep) => (rep.resentBytes === null ? [] : [rep.resentBytes]))),
    durableSeconds: median(ok.flatMap((rep) => (rep.syncSeconds === null ? [] : [rep.wallSeconds + rep.syncSeconds]))),
  };
}

function ratio(cell: Measured, gsync: Measured | undefined): number | null {
  if (gsync === undefined || cell.status !== 'ok' || gsync.status !== 'ok') return null;
  // A zero gsync wall time (a noop below the timer's resolution) has no meaningful ratio.
  if (cell.wallSeconds === null || gsync.wallSeconds === null || gsync.wallSeconds <= 0) return null;
  return cell.wallSeconds / gsync.wallSeconds;
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
