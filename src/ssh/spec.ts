/**
 * Everything needed to open a connection, resolved from ~/.ssh/config and flags, with every
 * path and token expanded. Structured-clonable: workers receive it and open the same route.
 */
export interface ConnectSpec {
  /** The name the user typed: used for messages and known_hosts hints. */
  readonly alias: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Absolute paths, in the order ssh offers them. */
  readonly identityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  readonly agentSocket: string | undefined;
  /** CertificateFile paths: ssh2 cannot authenticate with certificates, so these only explain a failure. */
  readonly certificateFiles: readonly string[];
  /** UserKnownHostsFile paths (accept-new writes to the first), then GlobalKnownHostsFile paths; none when `none`/`/dev/null`. */
  readonly knownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  readonly strictHostKeyChecking: 'yes' | 'accept-new' | 'no' | 'ask';
  readonly hostKeyAlias: string | undefined;
  readonly hashKnownHosts: boolean;
  /** Never prompt; fail at once when a passphrase or password would be needed. */
  readonly batchMode: boolean;
  readonly pubkeyAuthentication: boolean;
  readonly passwordAuthentication: boolean;
  readonly kbdInteractiveAuthentication: boolean;
  readonly connectTimeoutMs: number;
  /** ServerAliveInterval: gsync keeps a 15 s keepalive when the config leaves it off, so a dead link is noticed. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  /** How the TCP stream to `host:port` is made: directly, through jump hosts, or by a command's stdio. */
  readonly route: Route;
  /** Algorithm preferences from the config, already narrowed to what ssh2 supports; undefined keeps gsync's defaults. */
  readonly ciphers: readonly string[] | undefined;
  readonly kexAlgorithms: readonly string[] | undefined;
  readonly hostKeyAlgorithms: readonly string[] | undefined;
  /** True when a Host line other than a pure wildcard named this alias. */
  readonly aliasKnown: boolean;
  /** The config file given with -F, if any: messages name it instead of ~/.ssh/config. */
  readonly configFile?: string;
}

/** The config file a message should send the user to. */
export function configFileOf(spec: Pick<ConnectSpec, 'configFile'>): string {
  return spec.configFile ?? '~/.ssh/config';
}

export type Route =
  | { readonly kind: 'direct' }
  /** Hops in connection order: the first is reached by its own route, each next one through the previous. */
  | { readonly kind: 'jump'; readonly hops: readonly ConnectSpec[] }
  /** The command line with its %-tokens already expanded, run by /bin/sh. */
  | { readonly kind: 'command'; readonly command: string };
