import { describe, expect, it } from 'vitest';
import { streamWindowFor } from '../../src/pipeline/linkPace.js';
import { RECEIVE_WINDOW } from '../../src/ssh/receiveWindow.js';

const MiB = 1024 * 1024;

describe("a tar channel's receive window", () => {
  it.each([
    // [round trip ms, window: undefined keeps ssh2's 2 MiB]
    [0.5, undefined],
    [7.7, undefined],
    [19.9, undefined],
    [20, Math.ceil((320 * MiB * 20) / 1000)],
    [50, Math.ceil((320 * MiB * 50) / 1000)],
    [100, RECEIVE_WINDOW],
    [500, RECEIVE_WINDOW],
  ])('over a %s ms round trip: %s', (roundTripMs, expected) => {
    expect(streamWindowFor(roundTripMs)).toBe(expected);
  });
});
