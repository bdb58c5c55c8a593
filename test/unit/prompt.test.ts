import { describe, expect, it } from 'vitest';
import { choosePrompter } from '../../src/ssh/prompt.js';

describe('choosePrompter: who may be asked for a passphrase, password or host key answer', () => {
  it.each([
    { description: 'a terminal and nothing else', env: {}, terminal: true, batch: false, want: 'terminal' },
    { description: 'no terminal, no SSH_ASKPASS (cron)', env: {}, terminal: false, batch: false, want: undefined },
    { description: 'no terminal, SSH_ASKPASS set', env: { SSH_ASKPASS: '/bin/askpass' }, terminal: false, batch: false, want: 'SSH_ASKPASS' },
    { description: 'a terminal beats SSH_ASKPASS by default', env: { SSH_ASKPASS: '/bin/askpass' }, terminal: true, batch: false, want: 'terminal' },
    { description: 'SSH_ASKPASS_REQUIRE=force beats a terminal', env: { SSH_ASKPASS: '/bin/askpass', SSH_ASKPASS_REQUIRE: 'force' }, terminal: true, batch: false, want: 'SSH_ASKPASS' },
    { description: 'SSH_ASKPASS_REQUIRE=prefer beats a terminal', env: { SSH_ASKPASS: '/bin/askpass', SSH_ASKPASS_REQUIRE: 'prefer' }, terminal: true, batch: false, want: 'SSH_ASKPASS' },
    { description: 'SSH_ASKPASS_REQUIRE=never without a terminal: nobody', env: { SSH_ASKPASS: '/bin/askpass', SSH_ASKPASS_REQUIRE: 'never' }, terminal: false, batch: false, want: undefined },
    { description: 'force without SSH_ASKPASS falls back to the terminal', env: { SSH_ASKPASS_REQUIRE: 'force' }, terminal: true, batch: false, want: 'terminal' },
    { description: 'an empty SSH_ASKPASS is unset', env: { SSH_ASKPASS: '' }, terminal: false, batch: false, want: undefined },
    { description: 'BatchMode: nobody, even with a terminal', env: {}, terminal: true, batch: true, want: undefined },
    { description: 'BatchMode: nobody, even with SSH_ASKPASS forced', env: { SSH_ASKPASS: '/bin/askpass', SSH_ASKPASS_REQUIRE: 'force' }, terminal: true, batch: true, want: undefined },
  ])('$description', ({ env, terminal, batch, want }) => {
    expect(choosePrompter(env, batch, terminal)?.via).toBe(want);
  });

  it('reads the answer from the SSH_ASKPASS program, without its newline, and passes the question as its argument', async () => {
    const prompter = choosePrompter({ SSH_ASKPASS: '/bin/echo', SSH_ASKPASS_REQUIRE: 'force' }, false, false);
    await expect(prompter?.ask('Enter passphrase:', { echo: false })).resolves.toBe('Enter passphrase:');
  });

  it('a failing SSH_ASKPASS is an auth error that names the program', async () => {
    const prompter = choosePrompter({ SSH_ASKPASS: '/bin/false' }, false, false);
    await expect(prompter?.ask('x', { echo: false })).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('/bin/false') as unknown });
  });
});
