/**
 * RunWriter on its own (src/actions/run-writer.ts): the master's compare-and-swap writes to one run,
 * on an in-memory store with a fake master role (fakes.ts). Waits between retries run on node:test's
 * mock timers, so no test depends on the wall clock.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';

import {
  complete,
  moveToCancelling,
  moveToRunning,
  moveToStarting,
  newRun,
  withProgress,
  type ActionRun,
} from '../../src/actions/run.js';
import { RunWriter } from '../../src/actions/run-writer.js';
import { NotMasterError } from '../../src/errors/domain.js';
import { StoreUnavailableError, TxnOutcomeUnknownError } from '../../src/store/errors.js';
import { FakeMaster, memoryCluster } from './fakes.js';

async function setUp() {
  const cluster = await memoryCluster();
  const master = new FakeMaster(cluster.store);
  const term = master.elect();
  const run = moveToRunning(moveToStarting(newRun('test_action', {}, 'admin'), 1));
  cluster.store.put(cluster.keys.action(run.action_uid), JSON.stringify(run));
  await cluster.view.waitFor(cluster.store.put(cluster.keys.activeAction(run.name), run.action_uid));
  const writer = new RunWriter(cluster.store, cluster.view, cluster.keys, master.role, term, run.action_uid);
  const stored = async (): Promise<ActionRun> =>
    JSON.parse((await cluster.store.get(cluster.keys.action(run.action_uid)))!.value) as ActionRun;
  return { ...cluster, master, term, run, writer, stored };
}

/** Lets promise callbacks run (the store and the writer are all promises, no I/O). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('RunWriter', () => {
  afterEach(() => mock.timers.reset());

  it('writes the mutation, fenced by the term it was decided under, and reports its revision', async () => {
    const t = await setUp();
    const next = await t.writer.update((r) => withProgress(r, 30, 'working'));
    assert.equal(next?.progress, 30);
    assert.equal((await t.stored()).phase, 'working');
    assert.deepEqual(t.master.fencedTerms, [t.term]);
    assert.equal(t.writer.lastRevision, (await t.store.get(t.keys.action(t.run.action_uid)))!.modRevision);
  });

  it('writes nothing when the mutation returns undefined (a guarded move that is not allowed)', async () => {
    const t = await setUp();
    const before = t.store.txns;
    assert.equal(await t.writer.update(() => undefined), undefined);
    assert.equal(t.store.txns, before);
  });

  it('re-reads and re-applies on top of a concurrent change instead of overwriting it', async () => {
    const t = await setUp();
    // A DELETE on another node moves the run to cancelling; the view has not seen it yet.
    t.store.holdWatch();
    t.store.put(t.keys.action(t.run.action_uid), JSON.stringify(moveToCancelling(t.run)));
    const seen: string[] = [];
    const next = await t.writer.update((r) => {
      seen.push(r.status);
      return withProgress(r, 60, undefined);
    });
    assert.deepEqual(seen, ['running', 'cancelling'], 'the stale base fails the compare, the store is read');
    assert.equal(next?.status, 'cancelling');
    assert.equal((await t.stored()).progress, 60);
  });

  it('releases active/<name> in the same write that ends the run', async () => {
    const t = await setUp();
    await t.writer.update((r) => complete(r, { done: true }));
    assert.equal((await t.stored()).status, 'completed');
    assert.equal(await t.store.get(t.keys.activeAction(t.run.name)), undefined);
  });

  it('applies queued updates one at a time, in order', async () => {
    const t = await setUp();
    const order: number[] = [];
    await Promise.all(
      [10, 20, 30].map((pct) =>
        t.writer.update((r) => {
          order.push(pct);
          return withProgress(r, pct, undefined);
        }),
      ),
    );
    assert.deepEqual(order, [10, 20, 30]);
    assert.equal((await t.stored()).progress, 30);
  });

  it('retries a store that is briefly unavailable, after a pause (mock timers)', async () => {
    const t = await setUp();
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    t.store.faults.push({ mode: 'throw', error: () => new StoreUnavailableError('leader election') });
    let done = false;
    const writing = t.writer.update((r) => withProgress(r, 50, undefined)).then((r) => ((done = true), r));
    await settle();
    assert.equal(done, false, 'the writer waits before it tries again');
    for (let i = 0; i < 100 && !done; i++) {
      mock.timers.tick(50);
      await settle();
    }
    assert.equal((await writing)?.progress, 50);
    assert.equal((await t.stored()).progress, 50);
  });

  it('takes a write whose outcome was unknown but landed as done, without writing it twice', async () => {
    const t = await setUp();
    t.store.faults.push({
      mode: 'apply-then-throw',
      error: () => new TxnOutcomeUnknownError('connection lost'),
    });
    const before = t.store.txns;
    const next = await t.writer.update((r) => withProgress(r, 70, undefined));
    assert.equal(next?.progress, 70);
    assert.equal(t.store.txns, before + 1, 'one transaction: the record itself says it landed');
  });

  it('refuses to write once the term it was decided under has ended', async () => {
    const t = await setUp();
    t.master.depose('lease lost');
    t.master.elect(2);
    await assert.rejects(
      t.writer.update((r) => withProgress(r, 90, undefined)),
      NotMasterError,
    );
    assert.equal((await t.stored()).progress, 0);
  });
});
