import { describe, expect, it } from 'vitest';
import { RECEIVE_WINDOW, streamWindowFor } from '../../src/ssh/receiveWindow.js';

const MiB = 1024 * 1024;

describe("a tar channel's receive window", () => {
  it.each([
    // [round trip ms, window: undefined keeps ssh2's 2 MiB]
    [0.5, undefined],
    [5, undefined],
    [12, undefined],
    [20, Math.ceil((320 * MiB * 20) / 1000)],
    [50, Math.ceil((320 * MiB * 50) / 1000)],
    [100, RECEIVE_WINDOW],
    [500, RECEIVE_WINDOW],
  ])('over a %s ms round trip: %s', (roundTripMs, expected) => {
    expect(streamWindowFor(roundTripMs)).toBe(expected);
  });
});
