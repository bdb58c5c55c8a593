/**
 * `npm run bench -- [scenario[:dataset]]... [tool]... [--reps N] [--slow-reps N] [--slow-rep S] [--timeout S]`
 * pulls the same data with gsync and its peers, in one run, and prints a table per scenario with
 * each tool's ratio to gsync. `npm run bench -- --report FILE.tsv` re-renders old results.
 * `npm run bench -- profile scenario:dataset` runs gsync once under --cpu-prof. See bench/README.md.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runRep, type Bench, type Cell } from './cells.js';
import { openCpuAccount } from './cpuAccount.js';
import { ensureDataset, type Dataset } from './datasets/store.js';
import { installPeers } from './install.js';
import { killRunningTools } from './measure.js';
import { select, type ScenarioSpec } from './matrix.js';
import { prepareDestinations } from './destFs.js';
import { profileGsync } from './profile.js';
import { renderChart } from './report/chart.js';
import { summarize } from './report/summarize.js';
import { renderTable } from './report/table.js';
import { appendRows, parseTsv } from './report/tsv.js';
import { startBenchServer, type BenchServer } from './server.js';
import { TOOLS } from './tools.js';
import type { DatasetName, Row } from './types.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const resultsDir = join(repo, 'bench', 'results');
const log = (line: string): void => console.log(line);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '3' },
    'slow-reps': { type: 'string', default: '1' },
    timeout: { type: 'string', default: '1800' },
    'slow-rep': { type: 'string', default: '120' },
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help === true) {
  console.log(readFileSync(join(repo, 'bench', 'README.md'), 'utf8'));
} else if (values.report !== undefined) {
  printReport(parseTsv(readFileSync(values.report, 'utf8')), undefined);
} else {
  await bench();
}

async function bench(): Promise<void> {
  const profiling = positionals[0] === 'profile';
  const selection = select(profiling ? positionals.slice(1) : positionals, [...TOOLS.keys()]);
  const reps = positiveInt(values.reps, '--reps');
  const slowReps = positiveInt(values['slow-reps'], '--slow-reps');
  const scratch = process.env['GSYNC_BENCH_DIR'] ?? join(repo, 'bench', 'scratch');
  const runId = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  installPeers(log);

  const datasets = new Map<DatasetName, Dataset>();
  for (const { datasets: names } of selection.scenarios) {
    for (const name of names) if (!datasets.has(name)) datasets.set(name, ensureDataset(join(scratch, 'data'), name, log));
  }
  // Each invocation starts from nothing but the datasets: own copies are made again (in a fresh
  // copies' file system), so they always match this build of every tool.
  rmSync(join(scratch, 'serve'), { recursive: true, force: true });
  const dest = prepareDestinations(scratch, log);

  const server = await startBenchServer(join(scratch, 'ssh'), log);
  const cpu = openCpuAccount('gsync-bench');
  const stopOnSignal = (): void => {
    killRunningTools();
    void server.stop().finally(() => {
      dest.release();
      process.exit(130);
    });
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: server.home,
    RCLONE_CONFIG: join(server.home, 'rclone.conf'),
    XDG_CONFIG_HOME: join(server.home, '.config'),
    XDG_CACHE_HOME: join(server.home, '.cache'),
    LANG: 'C.UTF-8',
  };
  writeFileSync(env['RCLONE_CONFIG'] as string, '');
  const context: Bench = { runId, repo, scratch, dest: dest.root, server, env, timeoutMs: positiveInt(values.timeout, '--timeout') * 1000, cpu, log };
  const slowRepSeconds = positiveInt(values['slow-rep'], '--slow-rep');
  log(`bench ${runId}: server reached over ${server.where}; CPU counted by ${cpu === undefined ? '/usr/bin/time (waited-for children only)' : 'cgroup'}; scratch ${scratch}; ${dest.description}`);
  try {
    if (profiling) {
      const first = selection.scenarios[0];
      const dataset = first === undefined ? undefined : datasets.get(first.datasets[0] ?? 'small');
      if (first === undefined || dataset === undefined) throw new Error('profile needs a scenario:dataset, e.g. profile full:small');
      await profileGsync(context, first.spec, dataset, join(scratch, 'profiles'));
      return;
    }
    const results = join(resultsDir, `${runId.replaceAll(':', '')}.tsv`);
    for (const { spec, datasets: names } of selection.scenarios) {
      const scenarioRows = await runScenario(context, server, spec, names, datasets, selection.tools, { reps: spec.slow ? slowReps : reps, slowRepSeconds });
      await appendRows(results, scenarioRows);
      printReport(scenarioRows, runId);
    }
    log(`\nraw rows: ${results}`);
  } finally {
    await server.stop();
    cpu?.remove();
    dest.release();
  }
}

async function runScenario(
  bench: Bench,
  server: BenchServer,
  spec: ScenarioSpec,
  names: readonly DatasetName[],
  datasets: ReadonlyMap<DatasetName, Dataset>,
  only: readonly string[] | undefined,
  repeat: { reps: number; slowRepSeconds: number },
): Promise<Row[]> {
  log(`\n== ${spec.name} ==`);
  const wan = spec.wan === undefined ? undefined : await server.startWan(`bench-${spec.name}`, spec.wan.oneWayDelayMs, spec.wan.rateBitsPerSecond);
  const link = wan === undefined ? { endpoint: server.endpoint, counters: () => server.counters() } : { endpoint: wan.endpoint, counters: () => wan.proxy.counters() };
  const rows: Row[] = [];
  try {
    for (const name of names) {
      const dataset = datasets.get(name);
      if (dataset === undefined) continue;
      const tools = spec.tools.filter((t) => only === undefined || only.includes(t)).flatMap((t) => TOOLS.get(t) ?? []);
      // Reps go round the tools (rep 1 of each, then rep 2, ...): this VM's speed drifts by
      // minutes, and interleaving spreads a slow spell over every tool instead of one. Each round
      // starts one tool further on: the first tool of every round ran slowest (full big: gsync
      // 4.38 s, gsync-sftp 3.15 s, the same code for big files), a bias no tool should always pay.
      let cells: Cell[] = tools.map((tool) => ({ scenario: spec.name, dataset, tool, link }));
      for (let rep = 1; rep <= repeat.reps && cells.length > 0; rep++) {
        const again = new Set<Cell>();
        for (const cell of rotate(cells, rep - 1)) {
          const row = await runRep(bench, cell, rep);
          rows.push(row);
          // A cell over the budget (rclone's per-file md5sum on small) or not measured is not repeated.
          if (row.wallSeconds <= repeat.slowRepSeconds) again.add(cell);
          else if (rep < repeat.reps) log(`  (${cell.tool.name} not repeated: over ${repeat.slowRepSeconds} s, or not measured)`);
        }
        cells = cells.filter((cell) => again.has(cell));
      }
    }
  } finally {
    await wan?.proxy.close();
  }
  return rows;
}

/** The list started at index `by` (modulo its length), wrapping round. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** Prints a table per scenario and, given a run id, writes its SVG chart beside the TSV. */
function printReport(rows: readonly Row[], runId: string | undefined): void {
  const cells = summarize(rows);
  for (const scenario of [...new Set(cells.map((c) => c.scenario))]) {
    const mine = cells.filter((c) => c.scenario === scenario);
    log(`\n${renderTable(scenario, mine)}`);
    if (runId === undefined) continue;
    mkdirSync(resultsDir, { recursive: true });
    const chart = join(resultsDir, `${runId.replaceAll(':', '')}-${scenario}.svg`);
    writeFileSync(chart, renderChart(scenario, mine));
    log(`chart: ${chart}`);
  }
}

function positiveInt(text: string | undefined, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} wants a positive whole number, not "${text}"`);
  return n;
}
