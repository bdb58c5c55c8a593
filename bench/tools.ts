/**
 * The tools under test, each as the command a user would type to pull a remote directory into a
 * local one, and what of its destination belongs to the tool rather than the data.
 */

/** Where a tool connects: an alias in the bench's ssh config, and the same endpoint spelled out (rclone 1.60 cannot read ssh config). */
export interface Endpoint {
  readonly alias: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

/** What every tool reads: the same ssh config, identity and known_hosts. */
export interface ToolContext {
  readonly repo: string;
  readonly configPath: string;
  readonly identityPath: string;
  readonly knownHostsPath: string;
  readonly endpoint: Endpoint;
}

/** One process to run: argv and, for sftp's batch, what goes to stdin. */
export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  readonly stdin?: string;
}

export interface Tool {
  readonly name: string;
  /**
   * Pulls absolute `remote` (a directory whose basename is `dest`'s) so that `dest` becomes its
   * copy. `destParent` is dest's parent, which exists; dest may or may not.
   */
  command(ctx: ToolContext, remote: string, dest: string, destParent: string): Command;
  /** A path in the copy that is the tool's own (state, temp files), not the data's. */
  owns(rel: string): boolean;
}

const nothing = (): boolean => false;
const ssh = (ctx: ToolContext): string => `ssh -F ${ctx.configPath}`;

/** gsync as users run it; `gsync-sftp` is the same with --no-tar: what the server's tar is worth. */
function gsync(name: string, extra: string[]): Tool {
  return {
    name,
    command: (ctx, remote, dest) => ({
      file: process.execPath,
      args: [`${ctx.repo}/bin/run.js`, 'pull', '-q', ...extra, '-F', ctx.configPath, `${ctx.endpoint.alias}:${remote}`, dest],
    }),
    owns: (rel) => rel === '.gsync',
  };
}

/** A killed rsync leaves its temp file (".name.XXXXXX") behind; that is rsync's, not a wrong copy. */
const RSYNC_TEMP = /(^|\/)\.[^/]+\.[A-Za-z0-9]{6}$/;

function rsync(name: string, extra: string[]): Tool {
  return {
    name,
    command: (ctx, remote, dest) => ({
      file: 'rsync',
      args: ['-a', ...extra, '-e', ssh(ctx), `${ctx.endpoint.alias}:${remote}/`, `${dest}/`],
    }),
    owns: (rel) => RSYNC_TEMP.test(rel),
  };
}

function scp(): Tool {
  return {
    name: 'scp',
    command: (ctx, remote, _dest, destParent) => ({
      file: 'scp',
      args: ['-q', '-r', '-F', ctx.configPath, `${ctx.endpoint.alias}:${remote}`, `${destParent}/`],
    }),
    owns: nothing,
  };
}

function sftp(name: string, get: string): Tool {
  return {
    name,
    command: (ctx, remote, _dest, destParent) => ({
      file: 'sftp',
      args: ['-q', '-F', ctx.configPath, '-b', '-', ctx.endpoint.alias],
      stdin: `${get} ${remote} ${destParent}/\n`,
    }),
    owns: nothing,
  };
}

function rclone(name: string, extra: string[]): Tool {
  return {
    name,
    command: (ctx, remote, dest) => {
      const e = ctx.endpoint;
      const backend = `:sftp,host=${e.host},port=${e.port},user=${e.user},key_file=${ctx.identityPath},known_hosts_file=${ctx.knownHostsPath}:`;
      return { file: 'rclone', args: ['copy', ...extra, `${backend}${remote}`, dest] };
    },
    owns: nothing,
  };
}

function lftp(name: string, mirror: string): Tool {
  return {
    name,
    command: (ctx, remote, dest) => ({
      file: 'lftp',
      args: [
        '-c',
        [
          `set sftp:connect-program "${ssh(ctx)} -a -x"`,
          'set cmd:fail-exit yes',
          `open sftp://${ctx.endpoint.user}:@${ctx.endpoint.alias}`,
          `mirror ${mirror} ${remote} ${dest}`,
        ].join('; '),
      ],
    }),
    owns: nothing,
  };
}

/** Every variant, by name. */
export const TOOLS: ReadonlyMap<string, Tool> = new Map(
  [
    gsync('gsync', []),
    gsync('gsync-sftp', ['--no-tar']),
    rsync('rsync', []),
    rsync('rsync-partial', ['--partial']),
    rsync('rsync-append', ['--append-verify']),
    scp(),
    sftp('sftp', 'get -r'),
    sftp('sftp-a', 'get -a -r'),
    rclone('rclone', []),
    rclone('rclone-t8', ['--transfers', '8']),
    lftp('lftp', '--parallel=8'),
    lftp('lftp-c', '-c --parallel=8'),
    lftp('lftp-pget', '--parallel=8 --use-pget-n=4'),
  ].map((tool) => [tool.name, tool]),
);
