import { describe, expect, it } from 'vitest';
import { defaultLocalName, parseTarget, sftpPath, type RemoteTarget } from '../../src/core/target.js';
import { GsyncError } from '../../src/errors/GsyncError.js';

describe('parseTarget: [user@]host:path as typed', () => {
  const valid: Array<{ description: string; arg: string; want: RemoteTarget }> = [
    { description: 'an alias and a relative path', arg: 'gpu-box:runs/exp1', want: { host: 'gpu-box', path: 'runs/exp1' } },
    { description: 'user@host', arg: 'alice@gpu.example.com:runs', want: { host: 'gpu.example.com', user: 'alice', path: 'runs' } },
    { description: 'an absolute remote path', arg: 'gpu:/data/runs', want: { host: 'gpu', path: '/data/runs' } },
    { description: 'a bracketed IPv6 address', arg: '[::1]:runs/exp1', want: { host: '::1', path: 'runs/exp1' } },
    { description: 'user@ and a bracketed IPv6 address', arg: 'bob@[fe80::1%eth0]:x', want: { host: 'fe80::1%eth0', user: 'bob', path: 'x' } },
    { description: 'an empty path (the login directory)', arg: 'gpu:', want: { host: 'gpu', path: '' } },
    { description: 'an IPv6 address and an empty path', arg: '[::1]:', want: { host: '::1', path: '' } },
    { description: 'colons after the first belong to the path', arg: 'gpu:a:b:c', want: { host: 'gpu', path: 'a:b:c' } },
    { description: 'a tilde path', arg: 'gpu:~/runs', want: { host: 'gpu', path: '~/runs' } },
    { description: 'a path with spaces', arg: 'gpu:my runs/exp 1', want: { host: 'gpu', path: 'my runs/exp 1' } },
    { description: 'an IPv4 address', arg: '10.0.0.7:runs', want: { host: '10.0.0.7', path: 'runs' } },
    // ssh splits user@host at the last '@' (user names like alice@corp exist): a host never holds '@'.
    { description: 'a user name containing @ splits at the last @', arg: 'alice@corp@gpu:runs', want: { host: 'gpu', user: 'alice@corp', path: 'runs' } },
  ];
  it.each(valid)('parses $description', ({ arg, want }) => {
    expect(parseTarget(arg)).toStrictEqual(want);
  });

  const invalid: Array<{ description: string; arg: string }> = [
    { description: 'no colon at all', arg: 'gpu-box' },
    { description: 'an empty argument', arg: '' },
    { description: 'an absolute local path', arg: '/abs/path' },
    { description: 'an absolute local path with a colon in it', arg: '/abs/path:x' },
    { description: 'a relative local path whose last part looks like C:foo', arg: './C:foo' },
    { description: 'a relative local path with a colon after a slash', arg: 'dir/C:foo' },
    { description: 'a parent-relative path with a colon', arg: '../x:y' },
    { description: 'an empty host', arg: ':runs' },
    { description: 'an empty host after user@', arg: 'alice@:runs' },
    { description: 'empty brackets', arg: '[]:runs' },
    { description: 'a bracketed address without a colon after it', arg: '[::1]' },
    { description: 'an unclosed bracket', arg: '[::1:runs' },
  ];
  it.each(invalid)('rejects $description as a usage error', ({ arg }) => {
    let caught: unknown;
    try {
      parseTarget(arg);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GsyncError);
    expect((caught as GsyncError).kind).toBe('usage');
    expect((caught as GsyncError).exitCode).toBe(1);
  });
});

describe('defaultLocalName: where a pull lands when no local dir is given', () => {
  const rows: Array<{ description: string; remotePath: string; want: string | undefined }> = [
    { description: 'the last component of a relative path', remotePath: 'runs/exp1', want: 'exp1' },
    { description: 'a single component', remotePath: 'exp1', want: 'exp1' },
    { description: 'a trailing slash is ignored', remotePath: 'runs/exp1/', want: 'exp1' },
    { description: 'several trailing slashes are ignored', remotePath: 'runs/exp1///', want: 'exp1' },
    { description: 'the last component of an absolute path', remotePath: '/data/runs', want: 'runs' },
    { description: 'a path under ~', remotePath: '~/x', want: 'x' },
    { description: 'the filesystem root has no name', remotePath: '/', want: undefined },
    { description: 'several slashes have no name', remotePath: '///', want: undefined },
    { description: 'the login directory has no name', remotePath: '', want: undefined },
    { description: '. has no name', remotePath: '.', want: undefined },
    { description: '.. has no name', remotePath: '..', want: undefined },
    { description: 'a path ending in /. has no name', remotePath: 'runs/.', want: undefined },
    { description: 'a path ending in /.. has no name', remotePath: 'runs/..', want: undefined },
    { description: '~ has no name', remotePath: '~', want: undefined },
    { description: '~/ has no name', remotePath: '~/', want: undefined },
  ];
  it.each(rows)('$description', ({ remotePath, want }) => {
    expect(defaultLocalName(remotePath)).toBe(want);
  });
});

describe('sftpPath: the path as SFTP needs it', () => {
  const rows: Array<{ description: string; remotePath: string; want: string }> = [
    { description: 'the login directory is .', remotePath: '', want: '.' },
    { description: '~ is the login directory', remotePath: '~', want: '.' },
    { description: '~/ is the login directory', remotePath: '~/', want: '.' },
    { description: '~/x is x relative to the login directory', remotePath: '~/x', want: 'x' },
    { description: '~/x/y keeps the rest', remotePath: '~/x/y', want: 'x/y' },
    { description: 'an absolute path is kept', remotePath: '/abs', want: '/abs' },
    { description: 'a relative path is kept', remotePath: 'rel', want: 'rel' },
    { description: 'a relative path with a tilde inside is kept', remotePath: 'a/~/b', want: 'a/~/b' },
  ];
  it.each(rows)('$description', ({ remotePath, want }) => {
    expect(sftpPath(remotePath)).toBe(want);
  });
});
