import { createCipheriv, createHash } from 'node:crypto';

/** Generation happens in slices this big, so a 64 MiB file never sits in memory whole. */
export const CHUNK_SIZE = 1 << 20;

const ZEROS = Buffer.alloc(CHUNK_SIZE);

/**
 * Deterministic, incompressible bytes: the AES-128-CTR keystream under a key derived from `seed`.
 * AES-NI makes it ~1–2 GB/s (64 MiB in well under a second), and the same seed always yields the
 * same bytes, with no two seeds sharing a prefix.
 */
export function* pseudoRandomChunks(seed: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  for (let left = size; left > 0; left -= CHUNK_SIZE) {
    yield cipher.update(left >= CHUNK_SIZE ? ZEROS : ZEROS.subarray(0, left));
  }
}

/** The same bytes as one Buffer, for small sizes and for checking what a test wrote. */
export function pseudoRandomBytes(seed: string, size: number): Buffer {
  return Buffer.concat([...pseudoRandomChunks(seed, size)], size);
}

/** The seed trees.ts uses for `file(size)` named `name`: same name and size, same bytes. */
export function fileSeed(name: string, size: number): string {
  return `${name}\0${size}`;
}
