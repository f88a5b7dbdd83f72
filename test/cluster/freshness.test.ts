/**
 * Unit tests of Freshness, the rule that decides whether a node may answer reads from its view,
 * against a stand-in view (only the four members Freshness reads).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Freshness } from '../../src/cluster/freshness.js';
import type { ClusterView } from '../../src/cluster/view.js';

function fakeView(revision: number): ClusterView {
  return {
    current: true,
    revision,
    reportedRevision: revision,
    requestProgress: () => undefined,
  } as unknown as ClusterView;
}

describe('Freshness', () => {
  const allowance = 1500;

  it('answers while the store was heard from within the silence bound, and not after', () => {
    const silence = 2000;
    const f = new Freshness(fakeView(10), allowance, () => Promise.resolve(undefined), silence);
    f.heard(1_000);
    assert.equal(f.fresh(1_000 + silence), true);
    assert.equal(f.fresh(1_000 + silence + 1), false, 'a node cut off from the store stops answering');
    f.heard(3_000);
    assert.equal(f.fresh(3_100), true, 'the next store answer restores it');
  });

  it('never answers before the store was heard from at all', () => {
    const f = new Freshness(fakeView(10), allowance, () => Promise.resolve(undefined));
    assert.equal(f.fresh(Date.now()), false);
  });

  it('does not answer until the view reached its barrier', () => {
    const f = new Freshness(fakeView(10), allowance, () => Promise.resolve(undefined));
    f.heard(1_000);
    f.require(11);
    assert.equal(f.fresh(1_100), false);
    f.require(10);
    const g = new Freshness(fakeView(11), allowance, () => Promise.resolve(undefined));
    g.heard(1_000);
    g.require(11);
    assert.equal(g.fresh(1_100), true);
  });

  it('stops answering when the store reported a revision the view has not reached within the allowance', () => {
    const f = new Freshness(fakeView(10), allowance, () => Promise.resolve(undefined));
    f.heard(1_000);
    f.observe(12, 1_000);
    assert.equal(f.fresh(1_000 + allowance), true);
    f.heard(2_000);
    assert.equal(f.fresh(1_000 + allowance + 1), false);
  });
});
