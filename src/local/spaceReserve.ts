import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Room held on the destination's disk while a run goes: when the disk fills up, releasing it
 * lets the state file record how the run ended. A few pages of WAL is all that takes.
 */
const RESERVE_BYTES = 256 * 1024;

export class SpaceReserve {
  private constructor(private readonly file: string) {}

  /** Holds the room, if there is any: on a disk already full the run goes on without it. */
  static async claim(stateDir: string): Promise<SpaceReserve> {
    const file = join(stateDir, 'reserve');
    // Written, not truncated: a sparse file would hold no room at all.
    await writeFile(file, Buffer.alloc(RESERVE_BYTES), { mode: 0o600 }).catch(() => rm(file, { force: true }));
    return new SpaceReserve(file);
  }

  release(): Promise<void> {
    return rm(this.file, { force: true });
  }
}
