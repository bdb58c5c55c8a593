import { describe, expect, it } from 'vitest';
import { dirsAtOnce } from '../../src/pipeline/dirsAtOnce.js';

describe('directories walked at once', () => {
  it.each([
    // [round trip ms, handles the server allows, directories at once]
    [0.2, 19_995, 32],
    [5, 19_995, 32],
    [20, 19_995, 50],
    [50, 19_995, 125],
    [100, 19_995, 250],
    [500, 19_995, 256],
    // A server that allows few handles keeps most of them for transfers, down to the LAN's 32.
    [100, 400, 100],
    [100, 40, 32],
    // One that does not say is taken to allow 256.
    [100, undefined, 64],
    [-1, 19_995, 32],
  ])('over a %s ms round trip, with %s handles allowed: %s', (roundTripMs, serverHandles, expected) => {
    expect(dirsAtOnce({ roundTripMs, serverHandles, firstPull: false })).toBe(expected);
  });

  it('a first pull walks as on a LAN, whatever the link', () => {
    expect(dirsAtOnce({ roundTripMs: 100, serverHandles: 19_995, firstPull: true })).toBe(32);
  });
});
