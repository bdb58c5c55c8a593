/** The data flowing between the bench's stages: what is pulled, how, and what one rep measured. */

export type DatasetName = 'big' | 'small' | 'mixed' | 'small100' | 'million';

/**
 * full: cold pull into an empty destination. noop: re-run over the tool's own complete copy.
 * incr: the tool's own v1 copy, v2 served. resume: SIGKILL at 50% of the bytes, then the same
 * command again (the re-run is measured). wan10/wan50/wan50cap: a cold pull through the delay
 * proxy (one-way 10 or 50 ms; cap: 100 Mbit/s per connection). scale: a cold pull of `million`.
 */
export type ScenarioName = 'full' | 'noop' | 'incr' | 'resume' | 'wan10' | 'wan50' | 'wan50cap' | 'scale' | 'scale-noop';

export type CellStatus = 'ok' | 'FAIL' | 'TIMEOUT' | 'ERROR';

/** One measured run of one tool: a row of bench/results/*.tsv. */
export interface Row {
  /** When the bench invocation started (ISO-8601), shared by all its rows. */
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly dataset: DatasetName;
  /** A tool variant: 'gsync', 'rsync', 'rsync-partial', 'scp', 'rclone-t8', 'lftp-pget', ... */
  readonly tool: string;
  /** 1-based. */
  readonly rep: number;
  /** ok: exited 0 and the copy matched byte for byte. FAIL: wrong copy or non-zero exit. */
  readonly status: CellStatus;
  /** Why the status is not ok (one line); '' when ok. */
  readonly detail: string;
  readonly wallSeconds: number;
  readonly userSeconds: number;
  readonly sysSeconds: number;
  /** Largest resident set of any process in the tool's tree, as /usr/bin/time reports it. */
  readonly maxRssKiB: number;
  /** Payload bytes server → client during the measured run. */
  readonly downBytes: number;
  /** Payload bytes client → server during the measured run. */
  readonly upBytes: number;
  /** resume only: bytes sent by the killed run and the re-run beyond what one cold pull sends. */
  readonly resentBytes: number | null;
  /**
   * A sync of the copies' file system as the tool exited: the writeback it left behind (gsync
   * makes its files durable before it exits; the other tools leave their data to the kernel).
   * null when not measured: a rep that failed before it ran, or results from before the column.
   */
  readonly syncSeconds: number | null;
}
