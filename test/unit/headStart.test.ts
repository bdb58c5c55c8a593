import { Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import Pull from '../../src/cli/commands/pull.js';
import { flagTable, readPullLine, sshOverrides, type ConnectionInputs, type FlagDefinition } from '../../src/cli/headStart.js';

const table = flagTable(Pull.flags as unknown as Record<string, FlagDefinition>);

/** What oclif's own parse of `pull <argv>` gives the connection, or 'refused' if oclif refuses the line. */
async function oclifReads(argv: string[]): Promise<ConnectionInputs | 'refused'> {
  try {
    const { args, flags } = await Parser.parse(argv, { flags: Pull.flags, args: Pull.args, strict: true });
    return { source: args.source, ssh: sshOverrides(flags), ...(flags.timeout === undefined ? {} : { timeoutSeconds: flags.timeout }) };
  } catch {
    return 'refused';
  }
}

describe('reading a pull command line before oclif loads', () => {
  it.each([
    [['gpu:/data']],
    [['gpu:/data', 'out']],
    [['-q', 'gpu:/data', 'out', '--json']],
    [['-F', '/etc/cfg', '-i', 'k1', '--identity', 'k2', '-p', '2222', '-l', 'bob', '-o', 'A=b', '--option', 'C d', 'gpu:/data']],
    [['--ssh-config=/etc/cfg', '--port=022', '--timeout=5', 'gpu:/data', 'out']],
    [['gpu:/data', '--exclude', '*.tmp', '--include', 'keep/**', '--links', 'all', '--max-delete', '3', '--delete', '-n']],
    [['--connections', '4', '--bwlimit', '20M', '--no-tar', '--max-duration', '2h', 'gpu:/data', '-v', '--timeout', '30']],
    [['--log-file', '/tmp/log', 'u@gpu:~/runs', '.']],
  ])('reads %j as oclif does', async (argv) => {
    const mine = readPullLine(['pull', ...argv], table);
    expect(mine).toBeDefined();
    expect(await oclifReads(argv)).toStrictEqual(mine);
  });

  it.each([
    [[]],
    [['--help']],
    [['-h', 'gpu:/data']],
    [['gpu:/data', '--no-such-flag']],
    [['-qv', 'gpu:/data']],
    [['gpu:/data', '--', '-odd']],
    [['gpu:/data', '-F']],
    [['gpu:/data', '-o', '-x']],
    [['a:/1', 'b', 'c']],
    [['gpu:/data', '-p', 'ssh']],
    [['gpu:/data', '-F', 'one', '-F', 'two']],
    [['gpu:/data', '--json=yes']],
  ])('leaves %j to oclif', (argv) => {
    expect(readPullLine(['pull', ...argv], table)).toBeUndefined();
  });

  it('leaves other commands alone', () => {
    expect(readPullLine(['status', 'gpu:/data'], table)).toBeUndefined();
    expect(readPullLine(['cron', 'add', 'gpu:/data'], table)).toBeUndefined();
  });

  it('knows every flag the pull command has, as oclif defines it', () => {
    for (const [name, flag] of Object.entries(Pull.flags)) {
      expect(table.get(`--${name}`)).toStrictEqual({ name, type: flag.type, multiple: flag.type === 'option' && flag.multiple === true });
      if (flag.char) expect(table.get(`-${flag.char}`)?.name).toBe(name);
    }
  });
});
