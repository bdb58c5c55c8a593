import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

/**
 * Install scripts of dependencies run only when allowScripts lists them (package.json). If one
 * was skipped, better-sqlite3 fails to load and ssh2 silently falls back to slow pure-JS crypto:
 * this proves both native parts were built and load.
 */
describe('native dependencies', () => {
  it('better-sqlite3 loads its binding and runs SQL', () => {
    const db = new Database(':memory:');
    expect(db.prepare('SELECT sqlite_version() AS v').get()).toMatchObject({ v: expect.stringMatching(/^3\./) });
    db.close();
  });

  it("ssh2 loaded its native crypto binding", () => {
    const crypto = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean };
    expect(crypto.bindingAvailable).toBe(true);
  });
});
