import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';

const COMMANDS_DIR = fileURLToPath(new URL('../../src/cli/commands/', import.meta.url));

/** oclif's id of each command file under src/cli/commands (`cron/add.ts` is `cron:add`). */
function commandFiles(): Map<string, string> {
  const files = readdirSync(COMMANDS_DIR, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'));
  return new Map(files.map((name) => [name.slice(0, -'.ts'.length).split('/').join(':'), name]));
}

describe("oclif's command list", () => {
  // oclif no longer scans the directory (package.json: explicit strategy): a command file left out
  // of COMMANDS would silently be no command at all.
  it('names every command file under src/cli/commands, each by its own class', async () => {
    const files = commandFiles();
    expect(Object.keys(COMMANDS).sort()).toEqual([...files.keys()].sort());
    for (const [id, name] of files) {
      const { default: command } = (await import(`${COMMANDS_DIR}${name}`)) as { default: unknown };
      expect(COMMANDS[id as keyof typeof COMMANDS], id).toBe(command);
    }
  });
});
