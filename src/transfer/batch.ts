import type { FileTask } from './protocol.js';

export interface BatchLimits {
  readonly maxFiles: number;
  readonly maxBytes: number;
}

export const defaultBatchLimits: BatchLimits = { maxFiles: 64, maxBytes: 8 * 1024 * 1024 };

/**
 * Groups files into worker tasks: small files together (one message, one hop for many files),
 * a file at or above maxBytes alone. Order is kept.
 */
export function batchFiles(files: readonly FileTask[], limits: BatchLimits = defaultBatchLimits): FileTask[][] {
  const batches: FileTask[][] = [];
  let current: FileTask[] = [];
  let bytes = 0;
  const close = (): void => {
    if (current.length > 0) batches.push(current);
    current = [];
    bytes = 0;
  };
  for (const file of files) {
    if (file.size >= limits.maxBytes) {
      close();
      batches.push([file]);
      continue;
    }
    if (current.length >= limits.maxFiles || (current.length > 0 && bytes + file.size > limits.maxBytes)) close();
    current.push(file);
    bytes += file.size;
  }
  close();
  return batches;
}
