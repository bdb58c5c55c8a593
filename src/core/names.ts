/**
 * Remote names are untrusted input: a name is one path component or it is rejected. Names are
 * kept byte for byte as the server sent them (decoded as UTF-8), never normalised, so a
 * fullwidth `．．` stays an ordinary name and can never become `..`.
 */

/** gsync's own namespace in the destination root: state, lock and partial files. */
export const STATE_DIR_NAME = '.gsync';

/** Why a name was refused, or undefined when it is a safe single component. */
export function unsafeNameReason(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `name '${name}' refers to a directory itself`;
  if (name.includes('/')) return 'name contains /';
  if (name.includes('\0')) return 'name contains NUL';
  if (name.includes('\uFFFD')) return 'name is not valid UTF-8';
  if (Buffer.byteLength(name, 'utf8') > 255) return 'name is longer than 255 bytes';
  return undefined;
}

/** Joins a validated relative directory path and a name: '' is the root. */
export function joinRelative(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** The directory part of a relative path ('' for top-level entries). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
