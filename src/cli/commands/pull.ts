import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { readFile } from 'node:fs/promises';
import { compileFilter, parseFilterFile, type FilterRule } from '../../core/filter.js';
import { LINKS_MODES } from '../../core/links.js';
import { parseDuration, parseSize } from '../../core/quantities.js';
import type { Selection } from '../../core/selection.js';
import { GsyncError } from '../../errors/GsyncError.js';
import type { PullRequest } from '../../pipeline/runPull.js';
import { GsyncCommand } from '../baseCommand.js';
import { sshOverrides, takeHeadStart } from '../headStart.js';
import { armTimeLimit, limitsOf, timeLimitOr } from '../runLimits.js';
import { onStopSignal } from '../signals.js';

export default class Pull extends GsyncCommand {
  static override summary = 'Mirror a remote directory (or one file) into a local directory over SSH.';
  static override description = `<alias> is a Host in ~/.ssh/config (or user@host). Without local-dir the
destination is ./<basename of remote-path>. Run the same command again to bring the copy up to
date: files with the same size and mtime are not sent again.`;
  static override examples = ['<%= config.bin %> pull gpu-box:runs/exp1', '<%= config.bin %> pull gpu-box:runs/exp1/ckpt.pt ./checkpoints'];

  static override args = {
    source: Args.string({ description: '<alias>:<remote-path>', required: true }),
    localDir: Args.string({ description: 'local destination directory', required: false }),
  };

  static override flags = {
    'ssh-config': Flags.string({ char: 'F', description: 'ssh config file to read instead of ~/.ssh/config' }),
    identity: Flags.string({ char: 'i', description: 'private key to offer first (as ssh -i); may be repeated', multiple: true, multipleNonGreedy: true }),
    port: Flags.integer({ char: 'p', description: 'remote SSH port (as ssh -p)', min: 1, max: 65535 }),
    'login-name': Flags.string({ char: 'l', description: 'remote user (as ssh -l); user@host wins over it' }),
    option: Flags.string({ char: 'o', description: 'an ssh_config option, Key=Value (as ssh -o); may be repeated', multiple: true, multipleNonGreedy: true }),
    timeout: Flags.integer({ description: 'seconds without data before a connection counts as stalled and is replaced (default 60)', min: 1 }),
    retries: Flags.integer({ description: 'attempts in a row without progress before a dropped or stalled link ends the run (default 5)', min: 0 }),
    append: Flags.boolean({ description: 'extend files that only grew since the last complete copy, checking the seam, instead of fetching them again' }),
    links: Flags.option({
      description: 'remote symlinks to make: safe (only those that cannot lead out of the destination), all (verbatim), none',
      options: LINKS_MODES,
      default: 'safe' as const,
    })(),
    'max-dir-entries': Flags.integer({ description: 'a remote directory listing more entries than this is reported, not used (default 1000000)', min: 1 }),
    'max-entries': Flags.integer({ description: 'remote entries listed in all, past which no more directories are listed (default 10000000)', min: 1 }),
    'max-depth': Flags.integer({ description: 'remote directories deeper than this are reported, not descended into (default 64)', min: 1 }),
    'dry-run': Flags.boolean({ char: 'n', description: 'list what would be transferred and deleted, and change nothing (not even create the destination)' }),
    delete: Flags.boolean({ description: 'remove local files and directories the remote no longer has (only where the remote listing was whole; never .gsync)' }),
    'max-delete': Flags.integer({ description: 'with --delete: refuse (exit 25, nothing deleted) a run that would remove more files than this', min: 0 }),
    'allow-mass-delete': Flags.boolean({ description: 'with --delete: go ahead even if more than half of the mirrored files would be removed' }),
    include: Flags.string({ description: "rsync-style pattern of paths to take even if a later --exclude matches (first match wins); may be repeated", multiple: true, multipleNonGreedy: true }),
    exclude: Flags.string({ description: "rsync-style pattern of paths to leave out ('*.tmp', '/cache/', 'logs/**'); may be repeated", multiple: true, multipleNonGreedy: true }),
    'exclude-from': Flags.string({ description: 'read --exclude patterns from this file, one per line (# and ; start comments)', multiple: true, multipleNonGreedy: true }),
    'min-size': Flags.string({ description: 'leave out files smaller than this (500K, 20M, 2G)' }),
    'max-size': Flags.string({ description: 'leave out files larger than this (500K, 20M, 2G)' }),
    'min-age': Flags.string({ description: 'leave out files modified more recently than this (90s, 15m, 2h); a later run takes them' }),
    'no-tar': Flags.boolean({ description: "copy small files by SFTP only, never as one stream through the server's tar" }),
    connections: Flags.integer({ description: 'SSH connections used for transfers (1 for single-socket proxies)', min: 1, max: 64 }),
    verbose: Flags.boolean({ char: 'v', description: 'also a line per directory; on a terminal, a line per file above the progress line' }),
    quiet: Flags.boolean({ char: 'q', description: 'print only errors and the closing summary' }),
    bwlimit: Flags.string({
      helpValue: 'RATE',
      description: 'cap the transfer rate of all connections together, as rsync does: KiB/s as a plain number, or with K, M, G (powers of 1024; KB, MB, GB: of 1000): 500K, 20M, 1.5G; 0 = no limit',
    }),
    'max-duration': Flags.string({
      helpValue: 'DURATION',
      description: 'stop cleanly after this long (90s, 15m, 2h, 1d; a plain number is seconds): what is done is kept, the exit code is 30, and the same command continues',
    }),
    json: Flags.boolean({ description: 'print newline-delimited JSON events on stdout (docs/events.md) instead of text' }),
    'log-file': Flags.string({ description: 'also append plain, timestamped lines to this file (made 0600, missing directories 0700), whatever -q says' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Pull);
    const selection = await selectionOf(flags, this.argv);
    const limits = limitsOf(flags);
    const { openOutput } = await import('../render/output.js');
    const output = openOutput({
      json: flags.json,
      quiet: flags.quiet,
      verbose: flags.verbose,
      logFile: flags['log-file'],
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
    });
    const abort = new AbortController();
    const unlisten = onStopSignal(() => abort.abort());
    const disarm = limits.timeLimit && armTimeLimit(abort, limits.timeLimit);
    const request: PullRequest = {
      source: args.source,
      ...(args.localDir === undefined ? {} : { localDir: args.localDir }),
      ssh: sshOverrides(flags),
      ...(flags.connections === undefined ? {} : { connections: flags.connections }),
      ...(flags['no-tar'] ? { noTar: true } : {}),
      ...(limits.bytesPerSecond > 0 ? { bytesPerSecond: limits.bytesPerSecond } : {}),
      ...(flags.timeout === undefined ? {} : { timeoutSeconds: flags.timeout }),
      ...(flags.retries === undefined ? {} : { retries: flags.retries }),
      append: flags.append,
      links: flags.links,
      ...(flags['max-dir-entries'] === undefined ? {} : { maxDirEntries: flags['max-dir-entries'] }),
      ...(flags['max-depth'] === undefined ? {} : { maxDepth: flags['max-depth'] }),
      ...(flags['max-entries'] === undefined ? {} : { maxEntries: flags['max-entries'] }),
      selection,
      dryRun: flags['dry-run'],
      ...(flags.delete ? { delete: { allowMass: flags['allow-mass-delete'], ...(flags['max-delete'] === undefined ? {} : { maxDelete: flags['max-delete'] }) } } : {}),
      signal: abort.signal,
    };
    try {
      // Loaded here, not at the top, so --help pays for none of it; and in two steps: the login
      // (usually begun before oclif loaded: headStart.ts) goes on while SQLite, piscina and the
      // walk load.
      const { openFirstConnection } = await import('../../pipeline/firstConnection.js');
      const connecting = takeHeadStart(request) ?? openFirstConnection(request);
      // Its failure is thrown where runPull awaits it; until then it must not count as unhandled.
      connecting.catch(() => undefined);
      const { runPull } = await import('../../pipeline/runPull.js');
      const summary = await runPull(request, output, connecting);
      process.exitCode = summary.exitCode;
    } catch (error) {
      const failure = timeLimitOr(abort.signal, error);
      // Said here to the JSON stream and the log; on the terminal by the command's catch, once the live line is gone.
      output.failed(failure);
      throw failure;
    } finally {
      disarm?.();
      output.close();
      unlisten();
    }
  }
}

/**
 * Filters, sizes and age. Rules keep the order they were given in on the command line (first
 * match wins, as in rsync), which oclif's per-flag arrays lose: it is read back from argv.
 */
async function selectionOf(
  flags: { 'min-size'?: string | undefined; 'max-size'?: string | undefined; 'min-age'?: string | undefined },
  argv: readonly string[],
): Promise<Selection> {
  const rules: FilterRule[] = [];
  for (const { flag, value } of ruleFlags(argv)) {
    if (flag === 'exclude-from') {
      const text = await readFile(value, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new GsyncError('usage', `cannot read --exclude-from ${value}: ${error.code ?? error.message}`);
      });
      for (const pattern of parseFilterFile(text)) rules.push({ kind: 'exclude', pattern });
    } else {
      rules.push({ kind: flag, pattern: value });
    }
  }
  return {
    ...(rules.length > 0 ? { filter: compileFilter(rules) } : {}),
    ...(flags['min-size'] === undefined ? {} : { minSize: parseSize(flags['min-size'], '--min-size') }),
    ...(flags['max-size'] === undefined ? {} : { maxSize: parseSize(flags['max-size'], '--max-size') }),
    ...(flags['min-age'] === undefined ? {} : { modifiedBy: Math.floor(Date.now() / 1000 - parseDuration(flags['min-age'], '--min-age')) }),
  };
}

/** --include, --exclude and --exclude-from in argv order, as `--flag value` or `--flag=value`. */
function ruleFlags(argv: readonly string[]): Array<{ flag: 'include' | 'exclude' | 'exclude-from'; value: string }> {
  const found: Array<{ flag: 'include' | 'exclude' | 'exclude-from'; value: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    const match = /^--(include|exclude|exclude-from)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    const flag = match[1] as 'include' | 'exclude' | 'exclude-from';
    const value = match[2] ?? argv[++i];
    if (value !== undefined) found.push({ flag, value });
  }
  return found;
}
