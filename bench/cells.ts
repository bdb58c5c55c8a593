import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuAccount } from './cpuAccount.js';
import type { Dataset } from './datasets/store.js';
import { overlay, verifyCopy, type Manifest } from './datasets/manifest.js';
import { flushDirtyPages, measure, runUntilKilled, type Measured, type RunSetup } from './measure.js';
import type { BenchServer, ByteCounts } from './server.js';
import type { Endpoint, Tool, ToolContext } from './tools.js';
import type { CellStatus, Row, ScenarioName } from './types.js';

/** Everything a cell needs that outlives it. */
export interface Bench {
  readonly runId: string;
  readonly repo: string;
  /** scratch/{data,serve,dest}: nothing outside it is written. */
  readonly scratch: string;
  /** Where the copies go: <dest>/runs and <dest>/keep (destFs.ts). */
  readonly dest: string;
  readonly server: BenchServer;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly cpu: CpuAccount | undefined;
  log(line: string): void;
}

/** One cell of the matrix: a scenario, a dataset and a tool. */
export interface Cell {
  readonly scenario: ScenarioName;
  readonly dataset: Dataset;
  readonly tool: Tool;
  /** The link to pull over: the server's own, or a WAN proxy's. */
  readonly link: { endpoint: Endpoint; counters: () => ByteCounts };
}

/** The tool's own complete v1 copy, and what its cold pull sent (the resume scenario's yardstick). */
interface OwnCopy {
  readonly dir: string;
  readonly coldDownBytes: number;
}

/** Runs rep number `rep` of a cell; whatever goes wrong becomes the row's status. */
export async function runRep(bench: Bench, cell: Cell, rep: number): Promise<Row> {
  let result: Row;
  try {
    result = await attempt(bench, cell, rep);
  } catch (error) {
    result = row(bench, cell, rep, 'ERROR', (error as Error).message.split('\n')[0] ?? '', undefined, null);
  } finally {
    // Only the tools' own copies (keep/) stay: a run's copy of each dataset left for every tool
    // until its next rep took 13 tools x 2.2 GiB, and filled the copies' file system.
    rmSync(destOf(bench, cell.tool, cell.dataset), { recursive: true, force: true });
  }
  bench.log(`  ${cell.scenario} ${cell.dataset.name} ${cell.tool.name} #${rep}: ${describe(result)}`);
  return result;
}

async function attempt(bench: Bench, cell: Cell, rep: number): Promise<Row> {
  const { dataset, tool } = cell;
  const dest = destOf(bench, tool, dataset);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(join(dest, '..'), { recursive: true });
  switch (cell.scenario) {
    case 'noop':
    case 'scale-noop':
    case 'incr': {
      const own = await ownCopy(bench, cell);
      execFileSync('cp', ['-a', own.dir, dest]);
      const v2 = cell.scenario === 'incr';
      serve(bench, dataset, v2 ? 'v2' : 'v1');
      try {
        return await measured(bench, cell, rep, v2 ? overlay(dataset.v1Manifest, manifestV2(dataset)) : dataset.v1Manifest, null);
      } finally {
        serve(bench, dataset, 'v1');
      }
    }
    case 'resume': {
      const own = await ownCopy(bench, cell);
      serve(bench, dataset, 'v1');
      flushDirtyPages();
      const first = await runUntilKilled(commandOf(bench, cell), setupOf(bench, cell), own.coldDownBytes / 2);
      if (!first.killed) return row(bench, cell, rep, 'ERROR', `finished (exit ${first.exitCode}) before half the bytes crossed`, undefined, null);
      return await measured(bench, cell, rep, dataset.v1Manifest, (m) => Math.max(0, first.downBytes + m.downBytes - own.coldDownBytes));
    }
    default: {
      serve(bench, dataset, 'v1');
      const result = await measured(bench, cell, rep, dataset.v1Manifest, null);
      // The first good cold copy becomes the tool's own copy for noop, incr and resume (scale's, for scale-noop).
      const keep = keepOf(bench, tool, dataset);
      if ((cell.scenario === 'full' || cell.scenario === 'scale') && result.status === 'ok' && !existsSync(keep.dir)) {
        mkdirSync(join(keep.dir, '..'), { recursive: true });
        renameSync(dest, keep.dir);
        writeFileSync(keep.meta, JSON.stringify({ coldDownBytes: result.downBytes }));
      }
      return result;
    }
  }
}

async function measured(bench: Bench, cell: Cell, rep: number, manifest: Manifest, resent: ((m: Measured) => number) | null): Promise<Row> {
  flushDirtyPages();
  const m = await measure(commandOf(bench, cell), setupOf(bench, cell));
  if (m.timedOut) return row(bench, cell, rep, 'TIMEOUT', `killed after ${bench.timeoutMs / 1000} s`, m, null);
  if (m.exitCode !== 0) return row(bench, cell, rep, 'FAIL', `exit ${m.exitCode}: ${m.stderrTail}`, m, null);
  const wrong = verifyCopy(destOf(bench, cell.tool, cell.dataset), manifest, (rel) => cell.tool.owns(rel));
  if (wrong !== '') return row(bench, cell, rep, 'FAIL', `wrong copy: ${wrong}`, m, null);
  return row(bench, cell, rep, 'ok', '', m, resent === null ? null : resent(m));
}

/** The tool's complete v1 copy: kept from its last full rep, or pulled now (unmeasured) if none. */
async function ownCopy(bench: Bench, cell: Cell): Promise<OwnCopy> {
  const keep = keepOf(bench, cell.tool, cell.dataset);
  if (!existsSync(keep.meta)) {
    bench.log(`  making ${cell.tool.name}'s own copy of ${cell.dataset.name} (a cold pull, not measured)`);
    const made = await attempt(bench, { ...cell, scenario: 'full' }, 1);
    if (made.status !== 'ok') throw new Error(`${cell.tool.name} could not make its own copy: ${made.status} ${made.detail}`);
  }
  const { coldDownBytes } = JSON.parse(readFileSync(keep.meta, 'utf8')) as { coldDownBytes: number };
  return { dir: keep.dir, coldDownBytes };
}

function manifestV2(dataset: Dataset): Manifest {
  if (dataset.v2Manifest === undefined) throw new Error(`dataset ${dataset.name} has no v2`);
  return dataset.v2Manifest;
}

/** Points scratch/serve/<name> at a version, atomically: every tool pulls the same remote path. */
export function serve(bench: Bench, dataset: Dataset, version: 'v1' | 'v2'): void {
  const target = version === 'v1' ? dataset.v1 : dataset.v2;
  if (target === undefined) throw new Error(`dataset ${dataset.name} has no ${version}`);
  const link = servedPath(bench, dataset);
  mkdirSync(join(link, '..'), { recursive: true });
  rmSync(`${link}.next`, { force: true });
  symlinkSync(target, `${link}.next`);
  renameSync(`${link}.next`, link);
}

export function servedPath(bench: Bench, dataset: Dataset): string {
  return join(bench.scratch, 'serve', dataset.name);
}

function destOf(bench: Bench, tool: Tool, dataset: Dataset): string {
  return join(bench.dest, 'runs', tool.name, dataset.name);
}

function keepOf(bench: Bench, tool: Tool, dataset: Dataset): { dir: string; meta: string } {
  const dir = join(bench.dest, 'keep', tool.name, dataset.name);
  return { dir, meta: `${dir}.json` };
}

function toolContext(bench: Bench, cell: Cell): ToolContext {
  const s = bench.server;
  return { repo: bench.repo, configPath: s.configPath, identityPath: s.identityPath, knownHostsPath: s.knownHostsPath, endpoint: cell.link.endpoint };
}

function commandOf(bench: Bench, cell: Cell): ReturnType<Tool['command']> {
  const dest = destOf(bench, cell.tool, cell.dataset);
  return cell.tool.command(toolContext(bench, cell), servedPath(bench, cell.dataset), dest, join(dest, '..'));
}

function setupOf(bench: Bench, cell: Cell): RunSetup {
  return { env: bench.env, counters: cell.link.counters, timeoutMs: bench.timeoutMs, timeFile: join(bench.scratch, 'time.out'), cpu: bench.cpu, copies: bench.dest };
}

function row(bench: Bench, cell: Cell, rep: number, status: CellStatus, detail: string, m: Measured | undefined, resentBytes: number | null): Row {
  return {
    runId: bench.runId,
    scenario: cell.scenario,
    dataset: cell.dataset.name,
    tool: cell.tool.name,
    rep,
    status,
    detail,
    wallSeconds: m?.wallSeconds ?? NaN,
    userSeconds: m?.userSeconds ?? NaN,
    sysSeconds: m?.sysSeconds ?? NaN,
    maxRssKiB: m?.maxRssKiB ?? NaN,
    downBytes: m?.downBytes ?? NaN,
    upBytes: m?.upBytes ?? NaN,
    resentBytes,
    syncSeconds: m?.syncSeconds ?? null,
  };
}

function describe(r: Row): string {
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  const base = `${r.status} ${r.wallSeconds.toFixed(2)} s, ${mib(r.downBytes)} MiB down, cpu ${(r.userSeconds + r.sysSeconds).toFixed(2)} s`;
  return `${base}${r.resentBytes === null ? '' : `, re-sent ${mib(r.resentBytes)} MiB`}${r.detail === '' ? '' : ` — ${r.detail}`}`;
}
