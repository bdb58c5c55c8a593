import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** Where every tool's copies go (runs/, keep/), and how the report names it. */
export interface Destinations {
  readonly root: string;
  readonly description: string;
  release(): void;
}

const GiB = 1024 ** 3;
/** The largest image made: 80 % of the free space, up to this. It is written whole (below), so no larger than the matrix needs. */
const MAX_IMAGE = 40 * GiB;
/** The default matrix: every tool's own copy of its data (13 tools × 2.2 GiB) and one run; or 1,000,000 files for two tools. */
const MATRIX_NEEDS = 36 * GiB;
/** Inodes the copies' file system is made with: the scale cells' three copies of 1,000,000 files, and room for the rest. */
const SCALE_INODES = 4_000_000;

/**
 * The copies go to a fresh journaled ext4 of their own, in a loop file: the file system a user's
 * disk has. This VM's root is ext4 without a journal, and there the kernel passes over every inode
 * freed in the last minutes when it allocates one (ext4's recently_deleted(), only without a
 * journal): each rep creates 20,000 files right after the last rep deleted 20,000, and paid for
 * it at random. In one run rsync's full-small reps took 1.98 and 10.42 s, and a profile of gsync
 * put a quarter of the machine's CPU in that one kernel loop. The loop device does direct I/O on
 * its file, as a disk would: buffered, every page was cached twice and written back twice, and
 * an fsync (gsync makes files durable; rsync does not) cost far more than on the disk (the mixed
 * set: gsync 5.5 s buffered, 3.4 s direct, rsync 3.5 and 3.4 s). The loop file is written
 * whole before mkfs, as a disk has no holes: a sparse one made each tool pay for where its copy
 * happened to land. Writes into a hole of it cost more than into blocks written before (1 GiB in
 * 256 KiB direct writes: 0.89 s against 0.65 s), the same pull of big took 2.9 s into one
 * directory and 3.8 s into another, and gsync trailed gsync-sftp (same code for big files) by
 * 10 % in two runs out of two. Not root, or no loop device: the scratch dir's own file system,
 * and the report says so.
 */
export function prepareDestinations(scratch: string, log: (line: string) => void): Destinations {
  const image = join(scratch, 'dest.img');
  const mountPoint = join(scratch, 'dest');
  const plain = (why: string): Destinations => {
    mkdirSync(mountPoint, { recursive: true });
    return { root: mountPoint, description: `copies on the scratch dir's own file system (${why})`, release: () => undefined };
  };
  if (process.getuid?.() !== 0) return plain('not root: no loop mount');
  unmount(mountPoint, image);
  rmSync(mountPoint, { recursive: true, force: true });
  mkdirSync(mountPoint, { recursive: true });
  // The last run's image goes first: its blocks are free space for this one (measured with it
  // still there, a full 13 GiB image sized the next at 13 GiB, and the matrix ran out of room).
  rmSync(image, { force: true });
  const free = (() => {
    const s = statfsSync(scratch);
    return s.bavail * s.bsize;
  })();
  const size = Math.min(MAX_IMAGE, Math.floor((free * 0.8) / GiB) * GiB);
  if (size < 8 * GiB) return plain(`${(free / GiB).toFixed(0)} GiB free: too little for a loop file system`);
  if (size < MATRIX_NEEDS) log(`warning: the copies' file system gets ${size / GiB} GiB; the whole matrix needs ~${MATRIX_NEEDS / GiB} GiB`);
  log(`making the copies' file system: ext4 with a journal, in ${image} (${size / GiB} GiB, written whole first: ~1 min)`);
  const written = spawnSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=64M', `count=${size / (64 * 1024 ** 2)}`, 'oflag=direct', 'status=none'], { encoding: 'utf8' });
  // Inode tables and journal written now, not by a background thread during the reps; no discard,
  // which on a file punches the holes back. Inodes for the scale cells: gsync's and rsync's kept
  // copies of million and a rep's copy are 3,000,000 at once, more than mkfs gives 40 GiB
  // (2,621,440: the reps after the first ended in ENOSPC).
  const made =
    written.status === 0
      ? spawnSync('mkfs.ext4', ['-q', '-F', '-N', String(SCALE_INODES), '-E', 'lazy_itable_init=0,lazy_journal_init=0,nodiscard', image], { encoding: 'utf8' })
      : written;
  const attached = made.status === 0 ? spawnSync('losetup', ['--direct-io=on', '--find', '--show', image], { encoding: 'utf8' }) : made;
  const device = attached.stdout.trim();
  const mounted = attached.status === 0 ? spawnSync('mount', [device, mountPoint], { encoding: 'utf8' }) : attached;
  if (mounted.status !== 0) {
    unmount(mountPoint, image);
    rmSync(image, { force: true });
    return plain(`no loop mount: ${(mounted.stderr || mounted.error?.message || '').trim().split('\n')[0] ?? ''}`);
  }
  return {
    root: mountPoint,
    description: `copies on a fresh journaled ext4 (${size / GiB} GiB loop file, written whole, direct I/O)`,
    release: () => {
      unmount(mountPoint, image);
      rmSync(image, { force: true });
    },
  };
}

/** Unmounts the copies' file system and detaches every loop device on its file (a crashed run's too). */
function unmount(mountPoint: string, image: string): void {
  spawnSync('umount', [mountPoint], { stdio: 'ignore' });
  const attached = spawnSync('losetup', ['--associated', image, '--noheadings', '--output', 'NAME'], { encoding: 'utf8' });
  for (const device of attached.stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '')) {
    spawnSync('losetup', ['--detach', device], { stdio: 'ignore' });
  }
}
