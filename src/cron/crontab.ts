import { markerId } from './cronLine.js';

/**
 * A crontab as lines of text, each kept exactly as read (a `\r` stays part of its line), so that
 * writing it back changes only the lines gsync owns.
 */
export interface Crontab {
  readonly lines: readonly string[];
}

/** A line gsync wrote, found by its `# gsync:<id>` marker. */
export interface CrontabEntry {
  readonly id: string;
  readonly line: string;
}

export function parseCrontab(text: string): Crontab {
  if (text === '') return { lines: [] };
  const lines = text.split('\n');
  // The text's final newline ends the last line; it does not start another.
  if (lines.at(-1) === '') lines.pop();
  return { lines };
}

/**
 * The text to install. Every line ends with a newline, the last one too: crontab refuses a file
 * without it ("missing newline before EOF"), so one is added when what was read lacked it.
 */
export function renderCrontab(crontab: Crontab): string {
  return crontab.lines.map((line) => `${line}\n`).join('');
}

/** gsync's lines, in crontab order. */
export function gsyncEntries(crontab: Crontab): CrontabEntry[] {
  return crontab.lines.flatMap((line) => {
    const id = markerId(line);
    return id === undefined ? [] : [{ id, line }];
  });
}

/**
 * Puts `line` in as the entry `id`: in place of that entry's line when there is one (a copy of
 * it further down, say pasted by hand, goes), else at the end. `changed` is false when the
 * crontab already said exactly this.
 */
export function upsertEntry(crontab: Crontab, id: string, line: string): { crontab: Crontab; replaced: boolean; changed: boolean } {
  const at = crontab.lines.findIndex((l) => markerId(l) === id);
  if (at < 0) return { crontab: { lines: [...crontab.lines, line] }, replaced: false, changed: true };
  const lines = crontab.lines.filter((l, index) => index === at || markerId(l) !== id);
  lines[at] = line;
  const changed = lines.length !== crontab.lines.length || crontab.lines[at] !== line;
  return { crontab: { lines }, replaced: true, changed };
}

/** Takes out every line of the entry `id`; `removed` counts them (0: no such entry). */
export function removeEntry(crontab: Crontab, id: string): { crontab: Crontab; removed: number } {
  const lines = crontab.lines.filter((line) => markerId(line) !== id);
  return { crontab: { lines }, removed: crontab.lines.length - lines.length };
}
