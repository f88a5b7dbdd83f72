/**
 * RunReadModel's answers of absence (src/actions/run-read-model.ts): the real view on an in-memory
 * store (fakes.ts) whose watch a test holds back, as a node's watch lags behind a write made on
 * another node. "No such run" is answered only once the store agrees.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RunReadModel } from '../../src/actions/run-read-model.js';
import { newRun } from '../../src/actions/run.js';
import { memoryCluster } from './fakes.js';

describe('RunReadModel', () => {
  it("shows a run submitted elsewhere a moment ago as its action's latest, once the view has it", async () => {
    const t = await memoryCluster();
    const runs = new RunReadModel(t.view, t.keys);
    const run = newRun('change_master', { node_uid: 2 }, undefined, undefined);
    // Another node's submit: the run and the pointer to it, in one write this view has not seen.
    t.store.holdWatch();
    t.store.put(t.keys.action(run.action_uid), JSON.stringify(run));
    t.store.put(t.keys.clusterAction('change_master'), run.action_uid);
    assert.equal(runs.latest('change_master'), undefined, 'the view is behind');
    const settled = runs.settledLatest('change_master');
    setImmediate(() => t.store.releaseWatch());
    assert.equal((await settled)?.action_uid, run.action_uid);
  });

  it('answers no run for a name the store has none of, without waiting on the view', async () => {
    const t = await memoryCluster();
    const runs = new RunReadModel(t.view, t.keys);
    t.store.holdWatch();
    assert.equal(await runs.settledLatest('change_master'), undefined);
  });
});
