import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonRenderer } from '../../src/cli/render/json.js';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { validate } from '../support/jsonSchema.js';
import { dryRunEvents, EVIL, everyEvent, progress, summary } from './renderEvents.js';

const schema = JSON.parse(readFileSync(new URL('../../docs/events.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');

/** Renders events 10 ms apart; returns the lines written. */
function render(events: ReturnType<typeof everyEvent>, failure?: unknown): string[] {
  const lines: string[] = [];
  let now = Date.UTC(2026, 10, 24, 8, 0, 0);
  const renderer = jsonRenderer({ write: (line) => lines.push(line), now: () => now });
  for (const event of events) {
    renderer.emit(event);
    now += 10;
  }
  if (failure !== undefined) renderer.failed(failure);
  return lines;
}

describe('--json events', () => {
  it('writes one object per line, each valid against docs/events.schema.json, for every kind of event', () => {
    const lines = render(everyEvent(), new GsyncError('network', 'the connection failed: reset', { hint: 'run the same command again' }));
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    const values = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const value of values) expect(validate(schema, value), JSON.stringify(value)).toStrictEqual([]);
    expect(values.map((v) => v['event'])).toStrictEqual([
      'start', 'dir-start', 'progress', 'retry', 'file', 'file', 'notice', 'problem', 'dir-done', 'dir-start', 'dir-done', 'summary', 'error',
    ]);
    expect(values[0]).toStrictEqual({ event: 'start', runId: 7, source: 'box:runs/exp1', destination: '/home/me/exp1', time: '2026-11-24T08:00:00.000Z' });
    expect(values.at(-1)).toStrictEqual({ event: 'error', kind: 'network', message: 'the connection failed: reset', hint: 'run the same command again', exitCode: 10, time: expect.any(String) });
  });

  it('covers every event of the schema, and docs/events.md describes each one and each field', () => {
    const defs = schema['$defs'] as Record<string, { properties?: Record<string, unknown> }>;
    const events = (schema['oneOf'] as Array<{ $ref: string }>).map((branch) => branch.$ref.replace('#/$defs/', ''));
    const lines = [...render(everyEvent(), new Error('boom')), ...render(dryRunEvents())];
    for (const line of lines) expect(validate(schema, JSON.parse(line)), line).toStrictEqual([]);
    const written = new Set(lines.map((line) => (JSON.parse(line) as { event: string }).event));
    expect(new Set(events)).toStrictEqual(written);
    for (const event of events) {
      expect(doc, `docs/events.md has a section for ${event}`).toContain(`### \`${event}\``);
      const section = doc.split(`### \`${event}\``)[1]?.split('\n### ')[0] ?? '';
      for (const field of Object.keys(defs[event]?.properties ?? {})) {
        if (field === 'event' || field === 'time') continue;
        expect(section, `docs/events.md, ${event}: field ${field}`).toContain(`| \`${field}\` |`);
      }
    }
  });

  it('keeps a hostile name exact but writes no raw control character (JSON.stringify lets DEL, C1 and U+2028 through)', () => {
    const name = `${EVIL}\u007f\u2028\u0085`;
    const [line] = render([{ type: 'file', path: name, bytes: 1, size: 1, transfer: 'whole' }]);
    expect(line).toBeDefined();
    const raw = [...(line ?? '')].map((c) => c.charCodeAt(0)).filter((code) => code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029);
    // The newline that ends the line is the only one.
    expect(raw).toStrictEqual([0x0a]);
    expect((JSON.parse(line ?? '') as { path: string }).path).toBe(name);
  });

  it('a dry run: each planned change, then its totals; a --delete run lists what it removed', () => {
    const values = render(dryRunEvents()).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(values.map((v) => v['event'])).toStrictEqual(['planned', 'planned', 'planned', 'dry-run-summary']);
    expect(values[0]).toStrictEqual({ event: 'planned', change: 'mkdir', path: 'logs/', time: expect.any(String) });
    expect(values[1]).toMatchObject({ change: 'resume', bytes: 1024, detail: 'at 40%' });
    expect(values[3]).toMatchObject({ exitCode: 25, toDelete: [EVIL], deleteRefused: expect.stringMatching(/^--delete would remove/) });
    const [done] = render([{ type: 'done', summary: summary({ deleted: ['old/', 'gone.txt'], filesDeleted: 3 }) }]);
    expect(JSON.parse(done ?? '')).toMatchObject({ event: 'summary', deleted: ['old/', 'gone.txt'], filesDeleted: 3 });
    expect(JSON.parse(done ?? '')).not.toHaveProperty('deleteRefused');
  });

  it('sends progress at most once a second, and speedup as null when nothing was received', () => {
    const lines = render([...Array.from({ length: 250 }, (_, i) => progress({ bytesDone: i })), { type: 'done', summary: summary({ bytesReceived: 0 }) }]);
    const values = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // 250 events 10 ms apart: 2.5 s.
    expect(values.filter((v) => v['event'] === 'progress').map((v) => v['bytesDone'])).toStrictEqual([0, 100, 200]);
    expect(values.at(-1)).toMatchObject({ event: 'summary', speedup: null });
  });

  it('an unexpected failure is an error event of kind internal', () => {
    const [line] = render([], new TypeError('x is undefined'));
    expect(JSON.parse(line ?? '')).toMatchObject({ event: 'error', kind: 'internal', message: 'x is undefined', exitCode: 11 });
  });
});

describe('the schema validator the tests use', () => {
  const valid = { event: 'notice', time: '2026-11-24T08:00:00.000Z', path: 'a', message: 'm' };
  it.each([
    { description: 'a valid event', value: valid, errors: 0 },
    { description: 'a missing field', value: { event: 'notice', time: valid.time, path: 'a' }, errors: 1 },
    { description: 'an extra field', value: { ...valid, extra: 1 }, errors: 1 },
    { description: 'a wrong type', value: { ...valid, path: 3 }, errors: 1 },
    { description: 'an unknown event', value: { ...valid, event: 'nope' }, errors: 1 },
    { description: 'a time not in ISO form', value: { ...valid, time: 'yesterday' }, errors: 1 },
    { description: 'a negative count', value: { event: 'dir-done', time: valid.time, path: '', outcome: 'complete', problems: -1 }, errors: 1 },
    { description: 'a value outside an enum', value: { event: 'dir-done', time: valid.time, path: '', outcome: 'great', problems: 0 }, errors: 1 },
    { description: 'a fraction where an integer is due', value: { event: 'dir-done', time: valid.time, path: '', outcome: 'complete', problems: 0.5 }, errors: 1 },
    { description: 'not an object', value: 'notice', errors: 1 },
  ])('$description: $errors error(s)', ({ value, errors }) => {
    expect(validate(schema, value)).toHaveLength(errors);
  });

  it('refuses a schema with a keyword it does not apply', () => {
    expect(() => validate({ type: 'string', maxLength: 3 }, 'abcd')).toThrow(/maxLength is not supported/);
  });
});
