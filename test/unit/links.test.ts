import { describe, expect, it } from 'vitest';
import { unsafeLinkReason } from '../../src/core/links.js';
import { planDir } from '../../src/core/plan.js';
import type { LinksMode } from '../../src/core/links.js';
import type { RemoteEntry } from '../../src/core/types.js';

describe('unsafeLinkReason: a link is made only when no chain of links can lead it outside', () => {
  const rows: Array<[path: string, target: string, safe: boolean]> = [
    ['latest', 'step-2.pt', true],
    ['latest', './step-2.pt', true],
    ['ckpt/latest', 'step-2.pt', true],
    ['ckpt/latest', '../config.json', true],
    ['a/b/c', '../../x/y', true],
    ['a/up', '..', true],
    ['a/dir', 'sub/', true],
    ['latest', '', false],
    ['latest', '/etc/passwd', false],
    ['latest', '..', false],
    ['latest', '../outside', false],
    ['a/b/c', '../../../x', false],
    ['a/b/c', '../../..', false],
    // Lexically inside, but b may itself be a link: b/.. is then b's target's parent.
    ['a', 'b/..', false],
    ['a', 'b/../c', false],
    ['x/a', '../b/../x', false],
    ['state', '.gsync/state.db', false],
    ['sub/state', '../.gsync', false],
    ['sub/ok', '.gsync', true], // sub/.gsync is an ordinary name below the root
    ['latest', '．．/x', true], // fullwidth dots are a name, never ..
  ];
  it.each(rows)('%s -> %j safe: %s', (path, target, safe) => {
    expect(unsafeLinkReason(path, target) === undefined).toBe(safe);
  });
});

describe('planDir with --links', () => {
  const link = (name: string, target: string): RemoteEntry => ({ name, kind: 'symlink', size: 0, mtime: 3000, mode: 0o777, linkTarget: target });
  const plan = (links: LinksMode | undefined, entry: RemoteEntry) =>
    planDir({ path: '', remote: [entry], local: [], state: [], ...(links ? { links } : {}) }).actions[0];

  it('safe (the default) makes a link that stays inside', () => {
    expect(plan(undefined, link('latest', 'step-2.pt'))?.type).toBe('symlink');
  });

  it('safe refuses an absolute link and says how to get it anyway', () => {
    const action = plan('safe', link('etc', '/etc'));
    expect(action).toMatchObject({ type: 'unsupported', path: 'etc' });
    expect(action?.type === 'unsupported' && action.reason).toMatch(/absolute.*--links=all/);
  });

  it('all makes it verbatim', () => {
    expect(plan('all', link('etc', '/etc'))).toMatchObject({ type: 'symlink', target: '/etc' });
  });

  it('none makes no link at all', () => {
    expect(plan('none', link('latest', 'step-2.pt'))).toMatchObject({ type: 'unsupported', reason: expect.stringMatching(/--links=none/) as unknown });
  });
});
