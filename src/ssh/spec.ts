/** Everything needed to open a connection, resolved from ~/.ssh/config and flags. Structured-clonable: workers receive it. */
export interface ConnectSpec {
  /** The name the user typed: used for messages and known_hosts hints. */
  readonly alias: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly identityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  readonly agentSocket: string | undefined;
  readonly knownHostsFiles: readonly string[];
  readonly strictHostKeyChecking: 'yes' | 'accept-new' | 'no' | 'ask';
  readonly hostKeyAlias: string | undefined;
  readonly connectTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  readonly proxyJump: string | undefined;
  readonly proxyCommand: string | undefined;
  /** True when a Host block other than a pure wildcard named this alias. */
  readonly aliasKnown: boolean;
}
