import { parentOf } from '../core/names.js';

interface Open {
  remaining: number;
  readonly attrs: { readonly mtime: number; readonly mode: number } | undefined;
}

/**
 * A directory's mtime and mode can be set only when nothing more will be created in it, and a
 * read-only mode must wait until its whole subtree is written. So each directory counts its own
 * work plus one per subdirectory, and when the count reaches zero its attributes are applied
 * and its parent is told. Memory is one entry per directory still open.
 */
export class DirCompletion {
  private readonly open = new Map<string, Open>();

  constructor(private readonly apply: (dir: string, attrs: { mtime: number; mode: number }) => Promise<void>) {}

  /** The directory was planned: it waits for its own work and for `subdirs` subtrees. */
  opened(dir: string, subdirs: number, attrs: Open['attrs']): void {
    this.open.set(dir, { remaining: subdirs + 1, attrs });
  }

  /** The directory's own entries are all in place (or failed). */
  async finished(dir: string): Promise<void> {
    for (let current: string | undefined = dir; current !== undefined; ) {
      const state = this.open.get(current);
      if (!state) return;
      state.remaining--;
      if (state.remaining > 0) return;
      this.open.delete(current);
      if (state.attrs) await this.apply(current, state.attrs);
      current = current === '' ? undefined : parentOf(current);
    }
  }
}
