import { describe, expect, it } from 'vitest';
import { openOutput } from '../../src/cli/render/output.js';

/** stdout and stderr that log every write() call, in the order made. */
function streams(): { calls: Array<{ stream: 'out' | 'err'; text: string }>; stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } {
  const calls: Array<{ stream: 'out' | 'err'; text: string }> = [];
  const stream = (name: 'out' | 'err'): NodeJS.WriteStream =>
    ({
      isTTY: false,
      write: (text: string): boolean => {
        calls.push({ stream: name, text });
        return true;
      },
    }) as unknown as NodeJS.WriteStream;
  return { calls, stdout: stream('out'), stderr: stream('err') };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function open(json = false): ReturnType<typeof streams> & { output: ReturnType<typeof openOutput> } {
  const s = streams();
  const output = openOutput({ json, quiet: false, verbose: false, logFile: undefined, env: {}, stdout: s.stdout, stderr: s.stderr });
  return { ...s, output };
}

const file = (path: string) => ({ type: 'file', path, bytes: 1, size: 1, transfer: 'tar' }) as const;

describe('openOutput to a pipe or a file: lines in batches', () => {
  it('writes the lines of one turn of the event loop in one call, once that turn is over', async () => {
    const { calls, output } = open();
    for (let i = 0; i < 1000; i++) output.emit(file(`f${i}`));
    expect(calls).toStrictEqual([]);
    await turn();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.text.split('\n').slice(0, 2)).toStrictEqual(['f0', 'f1']);
    expect(calls[0]?.text.split('\n')).toHaveLength(1001);
    output.emit(file('next'));
    await turn();
    expect(calls.map((c) => c.text)).toStrictEqual([expect.any(String), 'next\n']);
  });

  it('keeps stdout and stderr in order: what waits goes out before a line on stderr', () => {
    const { calls, output } = open();
    output.emit(file('before'));
    output.emit({ type: 'notice', path: 'x', message: 'something' });
    output.emit(file('after'));
    output.close();
    expect(calls).toStrictEqual([
      { stream: 'out', text: 'before\n' },
      { stream: 'err', text: 'gsync: x: something\n' },
      { stream: 'out', text: 'after\n' },
    ]);
  });

  it('writes what waits when it closes, and nothing more after', async () => {
    const { calls, output } = open(true);
    output.emit(file('a'));
    output.close();
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]?.text ?? '')).toMatchObject({ event: 'file', path: 'a' });
    await turn();
    expect(calls).toHaveLength(1);
  });
});
