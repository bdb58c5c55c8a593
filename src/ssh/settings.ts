/**
 * The effective ssh_config settings gsync uses for one destination, as `ssh -G` reports them:
 * after Host/Match/Include, first value wins, defaults filled in, HostName's %h expanded and
 * lower-cased, `~`, %-tokens and ${VAR} expanded in UserKnownHostsFile and IdentityAgent.
 * IdentityFile, CertificateFile, GlobalKnownHostsFile and ProxyCommand are kept as written (ssh
 * expands them only when it uses them); `config.ts` expands them. Both resolvers produce this,
 * so they can be compared.
 */
export interface SshSettings {
  /** The name typed (ssh's %n / originalhost). */
  readonly alias: string;
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  /** `-i` files first (with `~` expanded), then the config's as written; OpenSSH's seven defaults when none. */
  readonly identityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  /** Unset, `none`, `SSH_AUTH_SOCK`, `$VAR`, or a path (with `~`, %-tokens and ${VAR} expanded, as ssh -G prints it). */
  readonly identityAgent: string | undefined;
  readonly certificateFiles: readonly string[];
  /**
   * A comma list of `[user@]host[:port]` or `ssh://[user@]host[:port]` hops, as ssh -G prints it
   * (the last hop rebuilt: `ssh://` dropped, a numeric host in brackets); never `none`.
   */
  readonly proxyJump: string | undefined;
  /** Never `none`. */
  readonly proxyCommand: string | undefined;
  /** Seconds; undefined when unset (`none`). */
  readonly connectTimeout: number | undefined;
  /** Seconds; 0 is off. */
  readonly serverAliveInterval: number;
  readonly serverAliveCountMax: number;
  readonly strictHostKeyChecking: 'yes' | 'accept-new' | 'no' | 'ask';
  /** Expanded; [] for `none`. */
  readonly userKnownHostsFiles: readonly string[];
  /** As written (ssh expands only `~`, when it reads them); [] for `none`. */
  readonly globalKnownHostsFiles: readonly string[];
  /** Lower-cased, as ssh does. */
  readonly hostKeyAlias: string | undefined;
  readonly hashKnownHosts: boolean;
  readonly batchMode: boolean;
  /** `unbound` and `host-bound` are yes. */
  readonly pubkeyAuthentication: boolean;
  readonly passwordAuthentication: boolean;
  readonly kbdInteractiveAuthentication: boolean;
  /** Algorithm preference lists; undefined where the config leaves OpenSSH's default. */
  readonly ciphers: readonly string[] | undefined;
  readonly kexAlgorithms: readonly string[] | undefined;
  readonly hostKeyAlgorithms: readonly string[] | undefined;
}

/**
 * Command-line settings that override the config file, as ssh's own flags do. ssh applies its
 * flags in the order typed; gsync applies -i, -p, -l, then -o (as if typed in that order).
 */
export interface SettingsOverrides {
  /** `-F`: another config file instead of ~/.ssh/config. */
  readonly configFile?: string;
  /** `-i`, in order; they come before the config's IdentityFile lines. */
  readonly identityFiles?: readonly string[];
  /** `-p`. */
  readonly port?: number;
  /** `-l`, or the user in `user@host` (which wins over `-l`). */
  readonly user?: string;
  /** `-o Key=Value` (or `Key Value`), in order; the first for a key wins, over the config file. */
  readonly options?: readonly string[];
}

/** Where the settings came from: OpenSSH's own resolver, or gsync's for machines without it. */
export type SettingsSource = 'ssh -G' | 'builtin';

export interface ResolvedSettings {
  readonly settings: SshSettings;
  readonly source: SettingsSource;
  /** True when a Host line other than a pure wildcard names the alias (for "unknown alias" errors). */
  readonly aliasKnown: boolean;
}
