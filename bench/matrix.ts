import type { DatasetName, ScenarioName } from './types.js';

/** What a scenario pulls, with which tools, over which link, and whether `npm run bench` runs it unasked. */
export interface ScenarioSpec {
  readonly name: ScenarioName;
  readonly datasets: readonly DatasetName[];
  readonly tools: readonly string[];
  /** Slow scenarios default to 1 rep (resume, WAN), the rest to 3. */
  readonly slow: boolean;
  /** A WAN link through the delay proxy; absent: the server's own link. */
  readonly wan?: { oneWayDelayMs: number; rateBitsPerSecond?: number };
  readonly byDefault: boolean;
}

/** Every peer a user might reach for instead, with its usual fast options. */
const PEERS = ['gsync', 'gsync-sftp', 'rsync', 'scp', 'sftp', 'rclone', 'rclone-t8', 'lftp', 'lftp-pget'];
/** The variants that can continue an interrupted pull (scp cannot). */
const RESUMERS = ['gsync', 'gsync-sftp', 'rsync', 'rsync-partial', 'rsync-append', 'sftp-a', 'rclone', 'lftp-c'];
const LOCAL = ['big', 'small', 'mixed'] as const;
const WAN = ['small100', 'big'] as const;

export const SCENARIOS: readonly ScenarioSpec[] = [
  { name: 'full', datasets: LOCAL, tools: PEERS, slow: false, byDefault: true },
  { name: 'noop', datasets: LOCAL, tools: PEERS, slow: false, byDefault: true },
  { name: 'incr', datasets: LOCAL, tools: PEERS, slow: false, byDefault: true },
  { name: 'resume', datasets: LOCAL, tools: RESUMERS, slow: true, byDefault: true },
  { name: 'wan10', datasets: WAN, tools: PEERS, slow: true, wan: { oneWayDelayMs: 10 }, byDefault: true },
  { name: 'wan50', datasets: WAN, tools: PEERS, slow: true, wan: { oneWayDelayMs: 50 }, byDefault: true },
  { name: 'wan50cap', datasets: WAN, tools: PEERS, slow: true, wan: { oneWayDelayMs: 50, rateBitsPerSecond: 100e6 }, byDefault: false },
  { name: 'scale', datasets: ['million'], tools: ['gsync', 'rsync'], slow: false, byDefault: false },
  { name: 'scale-noop', datasets: ['million'], tools: ['gsync', 'rsync'], slow: false, byDefault: false },
];

/** A selection from the command line: `full`, `full:small`, and tool names. */
export interface Selection {
  readonly scenarios: readonly { spec: ScenarioSpec; datasets: readonly DatasetName[] }[];
  readonly tools: readonly string[] | undefined;
}

/**
 * Reads `[scenario[:dataset]]... [tool]...`. No scenario means every default one; no tool means
 * each scenario's own list. Throws on a word that is neither, naming what is known.
 */
export function select(words: readonly string[], toolNames: readonly string[]): Selection {
  const scenarios: { spec: ScenarioSpec; datasets: readonly DatasetName[] }[] = [];
  const tools: string[] = [];
  for (const word of words) {
    const [name, dataset] = word.split(':');
    const spec = SCENARIOS.find((s) => s.name === name);
    if (spec !== undefined) {
      const datasets = dataset === undefined ? spec.datasets : spec.datasets.filter((d) => d === dataset);
      if (datasets.length === 0) throw new Error(`scenario ${spec.name} has no dataset ${dataset}: it runs ${spec.datasets.join(', ')}`);
      scenarios.push({ spec, datasets });
    } else if (toolNames.includes(word)) tools.push(word);
    else {
      throw new Error(`unknown scenario or tool "${word}": scenarios are ${SCENARIOS.map((s) => s.name).join(', ')}; tools are ${toolNames.join(', ')}`);
    }
  }
  return {
    scenarios: scenarios.length > 0 ? scenarios : SCENARIOS.filter((s) => s.byDefault).map((spec) => ({ spec, datasets: spec.datasets })),
    tools: tools.length > 0 ? tools : undefined,
  };
}
