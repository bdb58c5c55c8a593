import type { Prompter } from './prompt.js';

/**
 * ConnectTimeout for a handshake: a budget that runs while the machines talk and stands still
 * while a person answers a prompt (a passphrase takes longer than any timeout should).
 */
export class Deadline {
  readonly #budgetMs: number;
  #spentMs = 0;
  #since: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #onExpiry: (() => void) | undefined;
  #prompts = 0;

  constructor(budgetMs: number) {
    this.#budgetMs = budgetMs;
  }

  /** A promise that loses to the budget: `expired()` is thrown when it runs out first. */
  static race<T>(work: Promise<T>, budgetMs: number, expired: () => Error): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(expired()), budgetMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  start(onExpiry: () => void): void {
    this.#onExpiry = onExpiry;
    this.#resume();
  }

  stop(): void {
    this.#pause();
    this.#onExpiry = undefined;
  }

  /** The same prompter, with the clock stopped while it waits for an answer. */
  pausedWhile(prompter: Prompter): Prompter {
    return {
      via: prompter.via,
      ask: async (question, options) => {
        if (this.#prompts++ === 0) this.#pause();
        try {
          return await prompter.ask(question, options);
        } finally {
          if (--this.#prompts === 0 && this.#onExpiry) this.#resume();
        }
      },
    };
  }

  #resume(): void {
    if (this.#timer !== undefined || this.#prompts > 0) return;
    this.#since = Date.now();
    this.#timer = setTimeout(() => this.#onExpiry?.(), Math.max(0, this.#budgetMs - this.#spentMs));
  }

  #pause(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#spentMs += Date.now() - (this.#since ?? Date.now());
  }
}
