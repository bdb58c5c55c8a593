import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../../src/ssh/deadline.js';
import type { Prompter } from '../../src/ssh/prompt.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A prompter whose answer the test gives by hand. */
function manual(): Prompter & { answer: (text: string) => void } {
  let answer: (text: string) => void = () => undefined;
  return {
    via: 'test',
    ask: () => new Promise<string>((resolve) => (answer = resolve)),
    answer: (text) => answer(text),
  };
}

describe('Deadline: ConnectTimeout that stands still while a person answers', () => {
  it('expires after its budget when nobody is asked anything', () => {
    const expired = vi.fn();
    new Deadline(1000).start(expired);
    vi.advanceTimersByTime(999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledOnce();
  });

  it('does not count the time spent at a prompt, and counts what came before and after', async () => {
    const expired = vi.fn();
    const deadline = new Deadline(1000);
    const person = manual();
    const prompter = deadline.pausedWhile(person);
    deadline.start(expired);
    vi.advanceTimersByTime(600);
    const asked = prompter.ask('passphrase: ', { echo: false });
    vi.advanceTimersByTime(60_000);
    expect(expired).not.toHaveBeenCalled();
    person.answer('secret');
    await expect(asked).resolves.toBe('secret');
    vi.advanceTimersByTime(399);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledOnce();
  });

  it('never fires after stop()', () => {
    const expired = vi.fn();
    const deadline = new Deadline(1000);
    deadline.start(expired);
    deadline.stop();
    vi.advanceTimersByTime(10_000);
    expect(expired).not.toHaveBeenCalled();
  });

  it('race() rejects with the given error when the work is slower than the budget', async () => {
    const never = new Promise<string>(() => undefined);
    const raced = Deadline.race(never, 500, () => new Error('too slow'));
    vi.advanceTimersByTime(500);
    await expect(raced).rejects.toThrow('too slow');
    await expect(Deadline.race(Promise.resolve('quick'), 500, () => new Error('too slow'))).resolves.toBe('quick');
  });
});
