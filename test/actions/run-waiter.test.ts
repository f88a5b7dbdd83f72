/**
 * RunWaiter on its own (src/actions/run-waiter.ts): the real view and read model on an in-memory
 * store (fakes.ts). A wait ends when the run is terminal, when it is gone, when its time is up, when
 * the client goes away, or when the node stops, and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RunReadModel } from '../../src/actions/run-read-model.js';
import { RunWaiter } from '../../src/actions/run-waiter.js';
import {
  moveToCompleted,
  moveToRunning,
  moveToStarting,
  newRun,
  type ActionRun,
} from '../../src/actions/run.js';
import { memoryCluster } from './fakes.js';

async function setUp() {
  const cluster = await memoryCluster();
  const waiter = new RunWaiter(new RunReadModel(cluster.view, cluster.keys));
  /** Stores a run as the master would, and returns once the view has it. */
  const write = async (run: ActionRun): Promise<ActionRun> => {
    await cluster.view.waitFor(cluster.store.put(cluster.keys.action(run.action_uid), JSON.stringify(run)));
    return run;
  };
  /** Whether `promise` has settled, after every pending delivery has run. */
  const settled = async (promise: Promise<void>): Promise<boolean> => {
    let done = false;
    void promise.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  };
  return { ...cluster, waiter, write, settled };
}

describe('RunWaiter', () => {
  it('answers at once for a run that is terminal, or that the view does not have', async () => {
    const t = await setUp();
    const run = await t.write(newRun('echo', {}, undefined, undefined));
    await t.write(moveToCompleted(moveToRunning(moveToStarting(run, 1)), {}));
    assert.equal(await t.settled(t.waiter.wait(run.action_uid, 60_000)), true);
    assert.equal(await t.settled(t.waiter.wait('no-such-run', 60_000)), true);
    assert.equal(t.waiter.waiting, 0);
  });

  it('holds through moves that are not terminal, and answers on the terminal one', async () => {
    const t = await setUp();
    const run = await t.write(newRun('echo', {}, undefined, undefined));
    const wait = t.waiter.wait(run.action_uid, 60_000);
    const other = t.waiter.wait(run.action_uid, 60_000);
    assert.equal(t.waiter.waiting, 2);
    const starting = await t.write(moveToStarting(run, 1));
    const running = await t.write(moveToRunning(starting));
    assert.equal(await t.settled(wait), false, 'starting and running are not the end');
    await t.write(moveToCompleted(running, {}));
    assert.equal(await t.settled(wait), true);
    assert.equal(await t.settled(other), true, 'every waiter on the run is answered');
    assert.equal(t.waiter.waiting, 0);
  });

  it('answers when the run is removed (retention), when its time is up, and when the client goes away', async () => {
    const t = await setUp();
    const removed = await t.write(newRun('echo', {}, undefined, undefined));
    const onRemoved = t.waiter.wait(removed.action_uid, 60_000);
    const { revision } = await t.store.txn({
      compare: [],
      success: [{ type: 'delete', key: t.keys.action(removed.action_uid) }],
    });
    await t.view.waitFor(revision);
    assert.equal(await t.settled(onRemoved), true);

    const run = await t.write(newRun('other', {}, undefined, undefined));
    await t.waiter.wait(run.action_uid, 5);
    const client = new AbortController();
    const aborted = t.waiter.wait(run.action_uid, 60_000, client.signal);
    assert.equal(await t.settled(aborted), false);
    client.abort();
    assert.equal(await t.settled(aborted), true);
    assert.equal(await t.settled(t.waiter.wait(run.action_uid, 60_000, client.signal)), true, 'already gone');
    assert.equal(t.waiter.waiting, 0, 'no timer or listener left behind');
  });

  it('answers every waiter when the node stops, and then follows the view no more', async () => {
    const t = await setUp();
    const run = await t.write(newRun('echo', {}, undefined, undefined));
    const waits = [t.waiter.wait(run.action_uid, 60_000), t.waiter.wait(run.action_uid, 60_000)];
    const listeners = t.view.listenerCount('change');
    t.waiter.close();
    for (const w of waits) assert.equal(await t.settled(w), true);
    assert.equal(t.waiter.waiting, 0);
    assert.equal(t.view.listenerCount('change'), listeners - 1, 'its view listener is gone');
  });
});
