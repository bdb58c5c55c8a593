/**
 * One scenario's median wall times as a standalone SVG bar chart: one group of horizontal bars
 * per dataset, each group on its own scale, since a `million`-file pull and a `big` pull differ by
 * orders of magnitude and one shared axis would flatten the small ones to nothing. Pure.
 */
import type { ScenarioName } from '../types.js';
import { byDataset, GSYNC, type CellSummary } from './summarize.js';

const WIDTH = 800;
const MARGIN = 16;
const TITLE_BASELINE = 30;
const FIRST_GROUP_TOP = 52;
const HEADING_HEIGHT = 24;
const ROW_HEIGHT = 24;
const BAR_HEIGHT = 16;
const GROUP_GAP = 16;
/** Tool names end here (right-aligned); bars start just after. */
const LABEL_RIGHT = 150;
const BAR_LEFT = 158;
/** Room after the longest bar for its value, e.g. "1234.56 s ×12.34". */
const VALUE_ROOM = 130;
const BAR_MAX = WIDTH - MARGIN - VALUE_ROOM - BAR_LEFT;
/** Characters of a tool name (~7 px each at 12 px) that fit left of the bars; of a failure detail. */
const TOOL_CHARS = 20;
const DETAIL_CHARS = 90;

const COLOURS = { gsync: '#d9480f', other: '#868e96', failed: '#e03131', text: '#212529', muted: '#495057' } as const;

/**
 * A standalone SVG document (UTF-8, no XML declaration, ends with a newline) charting the median
 * wall time of each of `scenario`'s cells (cells of other scenarios are ignored), in the given
 * order. Each bar is labelled with its tool on the left and its time and ratio to gsync on the
 * right; gsync's bar is highlighted. A cell that is not ok gets no bar, only its status in red.
 */
export function renderChart(scenario: ScenarioName, cells: readonly CellSummary[]): string {
  const parts: string[] = [
    text(MARGIN, TITLE_BASELINE, `gsync bench — ${scenario} — wall time, median (lower is better)`, 'font-size="16" font-weight="bold"'),
  ];
  const mine = cells.filter((cell) => cell.scenario === scenario);
  let top = FIRST_GROUP_TOP;
  if (mine.length === 0) {
    parts.push(text(MARGIN, top + 16, 'no results', `fill="${COLOURS.muted}"`));
    top += ROW_HEIGHT;
  }
  for (const [dataset, group] of byDataset(mine)) {
    parts.push(text(MARGIN, top + 16, dataset, 'font-size="14" font-weight="bold"'));
    top += HEADING_HEIGHT;
    // The group's own scale: its slowest ok cell spans the full bar width.
    const longest = Math.max(0, ...group.map((cell) => (cell.status === 'ok' ? (cell.wallSeconds ?? 0) : 0)));
    for (const cell of group) {
      parts.push(...barRow(cell, top, longest));
      top += ROW_HEIGHT;
    }
    top += GROUP_GAP;
  }
  const height = top - GROUP_GAP + MARGIN;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}"` +
      ` font-family="sans-serif" font-size="12" fill="${COLOURS.text}" style="background:#fff">`,
    `<title>${escapeXml(`gsync bench — ${scenario}`)}</title>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** The SVG elements of one cell's row, whose top edge is at `top`. */
function barRow(cell: CellSummary, top: number, longest: number): string[] {
  const baseline = top + BAR_HEIGHT - 4;
  const label = text(LABEL_RIGHT, baseline, truncate(cell.tool, TOOL_CHARS), 'text-anchor="end"');
  if (cell.status !== 'ok' || cell.wallSeconds === null) {
    const why = cell.detail === '' ? cell.status : `${cell.status}: ${cell.detail}`;
    return [label, text(BAR_LEFT, baseline, truncate(why, DETAIL_CHARS), `fill="${COLOURS.failed}"`)];
  }
  // At least 1 px, so a zero time still shows where its bar would be.
  const width = longest > 0 ? Math.max(1, (cell.wallSeconds / longest) * BAR_MAX) : 1;
  const colour = cell.tool === GSYNC ? COLOURS.gsync : COLOURS.other;
  const ratio = cell.tool === GSYNC || cell.ratioToGsync === null ? '' : `<tspan dx="8" fill="${COLOURS.muted}">×${cell.ratioToGsync.toFixed(2)}</tspan>`;
  return [
    label,
    `<rect x="${BAR_LEFT}" y="${top}" width="${px(width)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
    `<text x="${px(BAR_LEFT + width + 6)}" y="${baseline}">${escapeXml(`${cell.wallSeconds.toFixed(2)} s`)}${ratio}</text>`,
  ];
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${px(x)}" y="${px(y)}"${attributes === '' ? '' : ` ${attributes}`}>${escapeXml(content)}</text>`;
}

/** Coordinates to a tenth of a pixel: finer is invisible and only bloats the file. */
function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function truncate(content: string, max: number): string {
  const chars = [...content];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : content;
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Text safe inside an element or a quoted attribute. Characters XML 1.0 forbids outright (most C0
 * controls, lone surrogates, U+FFFE/U+FFFF), which a tool's error text may hold, become U+FFFD:
 * one of them would make the whole document unreadable.
 */
function escapeXml(content: string): string {
  let out = '';
  for (const c of content) out += ENTITIES[c] ?? (isXmlChar(c.codePointAt(0) ?? 0) ? c : '\uFFFD');
  return out;
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000
  );
}
