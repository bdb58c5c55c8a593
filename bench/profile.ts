import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runRep, type Bench } from './cells.js';
import type { Dataset } from './datasets/store.js';
import type { ScenarioSpec } from './matrix.js';
import { TOOLS, type Tool } from './tools.js';

/** The parts of a V8 .cpuprofile that self time needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Runs one gsync rep of a cell under `node --cpu-prof` (every thread, workers included, writes its
 * own profile) and prints where each thread spent its time: the top functions and modules by self
 * time. Only the last process's profiles are read: noop, incr and resume first make an own copy.
 */
export async function profileGsync(bench: Bench, spec: ScenarioSpec, dataset: Dataset, dir: string): Promise<void> {
  const gsync = TOOLS.get('gsync');
  if (gsync === undefined) throw new Error('no gsync tool');
  rmSync(dir, { recursive: true, force: true });
  let runs = 0;
  const profiled: Tool = {
    name: 'gsync-profiled',
    owns: gsync.owns,
    command(ctx, remote, dest, destParent) {
      const plain = gsync.command(ctx, remote, dest, destParent);
      const out = join(dir, String(++runs));
      mkdirSync(out, { recursive: true });
      return { ...plain, args: ['--cpu-prof', `--cpu-prof-dir=${out}`, ...plain.args] };
    },
  };
  const link = spec.wan === undefined ? undefined : await bench.server.startWan(`bench-${spec.name}`, spec.wan.oneWayDelayMs, spec.wan.rateBitsPerSecond);
  try {
    const endpoint = link?.endpoint ?? bench.server.endpoint;
    const counters = link === undefined ? () => bench.server.counters() : () => link.proxy.counters();
    await runRep(bench, { scenario: spec.name, dataset, tool: profiled, link: { endpoint, counters } }, 1);
  } finally {
    await link?.proxy.close();
  }
  const last = join(dir, String(runs));
  for (const file of readdirSync(last).sort()) {
    console.log(`\n${summarizeProfile(file, JSON.parse(readFileSync(join(last, file), 'utf8')) as CpuProfile)}`);
  }
  console.log(`\nprofiles: ${last} (open in Chrome DevTools › Performance, or speedscope)`);
}

/** Self time per function and per module, top entries first. */
export function summarizeProfile(name: string, profile: CpuProfile): string {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByFunction = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id);
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    if (node === undefined) return;
    total += delta;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = `${functionName || '(anonymous)'} ${url === '' ? '' : `${basename(url)}:${lineNumber + 1}`}`.trim();
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + delta);
    selfByModule.set(moduleOf(url, functionName), (selfByModule.get(moduleOf(url, functionName)) ?? 0) + delta);
  });
  const top = (map: Map<string, number>, n: number): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, ms]) => `  ${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${key}`);
  return [`${name}: ${total.toFixed(0)} ms sampled`, ' by module:', ...top(selfByModule, 8), ' by function:', ...top(selfByFunction, 15)].join('\n');
}

/** Which package or part of gsync a frame belongs to: 'ssh2', 'gsync:src/remote', 'node:internal', '(idle)', ... */
function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] ?? url;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const own = /\/dist\/(src\/[^/]+)/.exec(url);
  return own === null ? url : `gsync:${own[1]}`;
}
