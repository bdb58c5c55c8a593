import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'oclif.manifest.json', 'coverage/', 'bench/scratch/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The planner and its types are pure: no file system, network, SQLite or workers.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:fs', 'node:fs/*', 'fs', 'node:net', 'node:child_process', 'node:worker_threads'], message: 'src/core is pure: do I/O at the edges' },
            { group: ['ssh2', 'better-sqlite3', 'piscina'], message: 'src/core is pure: do I/O at the edges' },
            { group: ['../local/*', '../remote/*', '../ssh/*', '../state/*', '../transfer/*', '../pipeline/*'], message: 'src/core depends on nothing but itself and errors' },
          ],
        },
      ],
    },
  },
  {
    // gsync cron's crontab editing is pure text in, text out; crontabProcess.ts is its only I/O.
    files: ['src/cron/crontab.ts', 'src/cron/cronLine.ts', 'src/cron/schedule.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:fs', 'node:fs/*', 'fs', 'node:net', 'node:child_process', 'node:os'], message: 'the crontab editing is pure: do I/O in crontabProcess.ts' },
            { group: ['ssh2', 'better-sqlite3', 'piscina', '../ssh/*', '../state/*', './crontabProcess.js'], message: 'the crontab editing is pure: do I/O in crontabProcess.ts' },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
