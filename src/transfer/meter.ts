/** Slots of the shared counters. */
const PAYLOAD = 0;
const WIRE = 1;

/**
 * The run's byte counters, shared by the main thread and every worker through one
 * SharedArrayBuffer: a worker adds with one atomic add per READ reply (~255 KiB) or socket read,
 * and nothing crosses between threads as a message; the main thread reads them when it reports
 * progress. Payload: file bytes read from the server (reads done again count again). Wire: bytes
 * the SSH transports received (encrypted, listings and handshakes included), as rsync's
 * "received" counts its whole stream.
 */
export class ByteMeter {
  readonly buffer: SharedArrayBuffer;
  readonly #counts: BigInt64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#counts = new BigInt64Array(buffer);
  }

  addPayload(bytes: number): void {
    if (bytes > 0) Atomics.add(this.#counts, PAYLOAD, BigInt(bytes));
  }

  addWire(bytes: number): void {
    if (bytes > 0) Atomics.add(this.#counts, WIRE, BigInt(bytes));
  }

  payload(): number {
    return Number(Atomics.load(this.#counts, PAYLOAD));
  }

  wire(): number {
    return Number(Atomics.load(this.#counts, WIRE));
  }
}
