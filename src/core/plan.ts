import type { Action, DirInput, DirPlan, DirRef, LocalEntry, ManifestRow, RemoteEntry } from './types.js';
import { joinRelative } from './names.js';
import { unsafeLinkReason, type LinksMode } from './links.js';
import { localModeOf } from './modes.js';
import { excluded, heldBack, type Selection } from './selection.js';

/**
 * Decides what to do in one directory. Pure: it sees the remote listing, the local listing and
 * the state file's rows for this directory, and touches nothing. An entry a filter excludes is
 * as if absent on both sides: not taken, not descended into, never deleted. Entries that exist
 * only locally are deleted only with `delete` (--delete and a whole listing).
 */
export function planDir(input: DirInput): DirPlan {
  const local = new Map<string, LocalEntry>(input.local.map((e) => [e.name, e]));
  const state = new Map<string, ManifestRow>(input.state.map((r) => [r.path, r]));
  const selection = input.selection ?? {};
  const actions: Action[] = [];
  const subdirs: DirRef[] = [];
  const remoteNames = new Set<string>();

  for (const remote of input.remote) {
    remoteNames.add(remote.name);
    const path = joinRelative(input.path, remote.name);
    if (excluded(selection, path, remote.kind)) continue;
    const held = heldBack(selection, remote);
    const action = held ? { type: 'hold' as const, path, entry: remote, reason: held } : planEntry(path, remote, local.get(remote.name), state.get(path), input);
    if (action) actions.push(action);
    if (remote.kind === 'dir') subdirs.push({ path, attrs: { mtime: remote.mtime, mode: remote.mode } });
  }
  if (input.delete) {
    for (const entry of input.local) {
      const path = joinRelative(input.path, entry.name);
      if (!remoteNames.has(entry.name) && !excluded(selection, path, entry.kind)) actions.push({ type: 'delete', path, entry });
    }
  }
  return input.self ? { path: input.path, actions, subdirs, attrs: input.self } : { path: input.path, actions, subdirs };
}

/** The run-wide choices every directory is planned with. */
export interface PlanOptions {
  readonly append: boolean;
  readonly links: LinksMode;
  readonly umask: number;
  readonly selection: Selection;
  /** --delete was given. */
  readonly delete: boolean;
}

/**
 * One directory's planner input from both listings and its state rows, the same for a run and a
 * dry run. A single-file pull (`only`) plans just that file. Deletions only where the remote
 * listing was `whole`: an entry it could not show is not gone.
 */
export function dirInputOf(
  dir: string,
  remote: readonly RemoteEntry[],
  whole: boolean,
  local: readonly LocalEntry[],
  state: readonly ManifestRow[],
  options: PlanOptions,
  only?: RemoteEntry,
): DirInput {
  const { append, links, umask, selection } = options;
  if (only) return { path: dir, remote: [only], local: local.filter((e) => e.name === only.name), state, append, links, umask, selection };
  return { path: dir, remote, local, state, append, links, umask, selection, delete: options.delete && whole };
}

/** The action for one remote entry, or undefined when a directory is already there. */
function planEntry(path: string, remote: RemoteEntry, local: LocalEntry | undefined, known: ManifestRow | undefined, input: DirInput): Action | undefined {
  switch (remote.kind) {
    case 'dir':
      if (local?.kind === 'dir') return undefined;
      // A local file or symlink where the remote has a directory is replaced, as rsync does.
      return { type: 'mkdir', path, replace: local !== undefined };
    case 'file':
      if (local?.kind === 'dir') return conflict(path, 'a local directory stands where the remote has a file');
      if (local?.kind === 'file' && sameContentStamp(local, remote)) {
        const settled = isRecorded(known, remote) && local.mode === localModeOf(remote.mode, input.umask ?? 0);
        return settled ? { type: 'skip', path, entry: remote } : { type: 'adopt', path, entry: remote };
      }
      if (input.append && local?.kind === 'file' && grewSince(local, known, remote)) return { type: 'append', path, entry: remote, from: local.size };
      return { type: 'fetch', path, entry: remote };
    case 'symlink': {
      const target = remote.linkTarget ?? '';
      const refused = refusedLink(path, target, input.links ?? 'safe');
      if (refused) return { type: 'unsupported', path, entry: remote, reason: refused };
      if (local?.kind === 'dir') return conflict(path, 'a local directory stands where the remote has a symlink');
      if (local?.kind === 'symlink' && local.linkTarget === target) {
        return isRecorded(known, remote) ? { type: 'skip', path, entry: remote } : { type: 'adopt', path, entry: remote };
      }
      return { type: 'symlink', path, target, entry: remote };
    }
    case 'other':
      return { type: 'unsupported', path, entry: remote, reason: 'not a regular file, directory or symlink (a FIFO, socket or device)' };
  }
}

/** Why --links keeps this symlink from being made, or undefined. */
function refusedLink(path: string, target: string, mode: LinksMode): string | undefined {
  if (mode === 'none') return `symlink (to ${JSON.stringify(target)}) not made: --links=none`;
  if (mode === 'all') return undefined;
  const reason = unsafeLinkReason(path, target);
  return reason && `symlink to ${JSON.stringify(target)} not made: ${reason} (--links=all copies it as it is)`;
}

/** The local file is the last complete copy the state file recorded, and the remote one is longer now. */
function grewSince(local: LocalEntry, known: ManifestRow | undefined, remote: RemoteEntry): boolean {
  return known?.kind === 'file' && known.size === local.size && known.mtime === local.mtime && remote.size > local.size;
}

/** rsync's quick check: same size and same mtime (whole seconds) means same content. */
function sameContentStamp(local: LocalEntry, remote: RemoteEntry): boolean {
  return local.size === remote.size && local.mtime === remote.mtime;
}

function isRecorded(known: ManifestRow | undefined, remote: RemoteEntry): boolean {
  return (
    known !== undefined &&
    known.kind === remote.kind &&
    known.size === remote.size &&
    known.mtime === remote.mtime &&
    known.mode === remote.mode &&
    known.linkTarget === (remote.linkTarget ?? null)
  );
}

function conflict(path: string, reason: string): Action {
  return { type: 'conflict', path, reason };
}
