import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** CPU seconds a process tree used, split as the kernel splits it. */
export interface CpuTime {
  user: number;
  sys: number;
}

/**
 * Counts the CPU of everything a tool starts, through a cgroup: /usr/bin/time sees only the
 * children a process waits for, and lftp never waits for its ssh (its CPU column read 0.00 s).
 * cgroup v1's cpuacct (this VM) or v2's cpu.stat; undefined where neither can be made (not root).
 */
export interface CpuAccount {
  /** The file a process writes its pid to, to join (its children follow). */
  readonly procsFile: string;
  read(): CpuTime;
  remove(): void;
}

export function openCpuAccount(name: string): CpuAccount | undefined {
  const v1 = '/sys/fs/cgroup/cpuacct';
  const v2 = '/sys/fs/cgroup';
  try {
    if (existsSync(join(v1, 'cpuacct.stat'))) {
      const dir = join(v1, name);
      mkdirSync(dir, { recursive: true });
      // cpuacct.stat is in USER_HZ ticks, 100 per second on Linux.
      return account(dir, join(dir, 'cpuacct.stat'), (fields) => ({ user: (fields.get('user') ?? NaN) / 100, sys: (fields.get('system') ?? NaN) / 100 }));
    }
    if (existsSync(join(v2, 'cgroup.controllers'))) {
      const dir = join(v2, name);
      mkdirSync(dir, { recursive: true });
      return account(dir, join(dir, 'cpu.stat'), (fields) => ({ user: (fields.get('user_usec') ?? NaN) / 1e6, sys: (fields.get('system_usec') ?? NaN) / 1e6 }));
    }
  } catch {
    // Not root, or cgroups not writable here: /usr/bin/time's figures stand.
  }
  return undefined;
}

function account(dir: string, statFile: string, parse: (fields: Map<string, number>) => CpuTime): CpuAccount {
  return {
    procsFile: join(dir, 'cgroup.procs'),
    read: () => {
      const fields = new Map(
        readFileSync(statFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(' '))
          .map(([key, value]) => [key ?? '', Number(value)] as const),
      );
      return parse(fields);
    },
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // Still has a member (a tool that outlived its kill): the next bench reuses it.
      }
    },
  };
}
