import { isAbsolute, join, relative, sep } from 'node:path';
import { STATE_DIR_NAME, unsafeNameReason } from '../core/names.js';
import { GsyncError } from '../errors/GsyncError.js';

export { STATE_DIR_NAME };

/**
 * The one place local paths are built. Every relative path from the remote side is checked
 * component by component, and the result is proven to stay strictly under the root, so no name
 * a server sends can address anything outside the destination or inside `.gsync`.
 */
export class Destination {
  readonly root: string;
  readonly stateDir: string;
  readonly partialDir: string;

  constructor(root: string) {
    this.root = root;
    this.stateDir = join(root, STATE_DIR_NAME);
    this.partialDir = join(this.stateDir, 'partial');
  }

  /** The local path of a relative remote path ('' is the root itself). Throws on anything unsafe. */
  pathOf(relativePath: string): string {
    if (relativePath === '') return this.root;
    const parts = relativePath.split('/');
    for (const part of parts) {
      const reason = unsafeNameReason(part);
      if (reason) throw unsafePath(relativePath, reason);
    }
    if (parts[0] === STATE_DIR_NAME) throw unsafePath(relativePath, `'${STATE_DIR_NAME}' is gsync's own directory`);
    const full = join(this.root, ...parts);
    const rel = relative(this.root, full);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw unsafePath(relativePath, 'path leaves the destination');
    }
    return full;
  }
}

function unsafePath(path: string, reason: string): GsyncError {
  return new GsyncError('protocol', `refusing unsafe remote path ${JSON.stringify(path)}: ${reason}`);
}
