import { describe, expect, it } from 'vitest';
import { classify } from '../../src/errors/classify.js';
import { GsyncError } from '../../src/errors/GsyncError.js';

const errno = (code: string, path?: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: failed`), { code, ...(path ? { path } : {}) });

describe('classify: anything thrown during a run → the error family', () => {
  const rows: Array<{ description: string; error: unknown; kind: GsyncError['kind']; exitCode: number }> = [
    { description: 'a GsyncError stays as it is', error: new GsyncError('hostkey', 'changed', { hint: 'ssh-keygen -R' }), kind: 'hostkey', exitCode: 5 },
    { description: 'disk full is local I/O', error: errno('ENOSPC', '/dst/.gsync/partial/1'), kind: 'local-io', exitCode: 11 },
    { description: 'a read-only destination is local I/O', error: errno('EROFS'), kind: 'local-io', exitCode: 11 },
    { description: 'permission on the destination is local I/O', error: errno('EACCES'), kind: 'local-io', exitCode: 11 },
    { description: 'a reset connection is network', error: errno('ECONNRESET'), kind: 'network', exitCode: 10 },
    { description: "ssh2's lost-channel error is network", error: new Error('No response from server'), kind: 'network', exitCode: 10 },
    { description: 'a thrown string is network, not a crash', error: 'boom', kind: 'network', exitCode: 10 },
    { description: 'a thrown null is network, not a crash', error: null, kind: 'network', exitCode: 10 },
  ];
  it.each(rows)('$description', ({ error, kind, exitCode }) => {
    const classified = classify(error);
    expect(classified.kind).toBe(kind);
    expect(classified.exitCode).toBe(exitCode);
    expect(classified.hint).toBeTruthy();
  });

  it('names the local path in the message', () => {
    expect(classify(errno('ENOSPC', '/dst/.gsync/partial/1')).message).toContain('/dst/.gsync/partial/1');
  });
});
