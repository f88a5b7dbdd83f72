/**
 * ActionEngine on its own (src/actions/engine.ts): the real view and state on an in-memory store,
 * a fake master role whose term the test sets, and test handlers (fakes.ts). It claims queued runs
 * only while master, turns a cancel into a RunCancelled abort, aborts with MasterDeposed or
 * NodeStopping when the term or the node ends (and then writes nothing), and ends truthfully what an
 * earlier master left unfinished.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { ActionEngine, defaultEngineSettings } from '../../src/actions/engine.js';
import { ActionCancelled, type ActionContext, type ActionHandler } from '../../src/actions/handler.js';
import { HandlerRegistry } from '../../src/actions/registry.js';
import {
  moveToCancelling,
  moveToRunning,
  moveToStarting,
  newRun,
  runKey,
  type ActionRun,
} from '../../src/actions/run.js';
import { MasterDeposed, NodeStopping, RunCancelled } from '../../src/errors/abort-reasons.js';
import { waitFor } from '../store/support.js';
import { FakeMaster, memoryCluster, silent } from './fakes.js';

/** A handler that runs until the test releases it or its signal aborts. */
class GatedHandler implements ActionHandler {
  readonly name = 'gated';
  started: ActionContext<unknown> | undefined;
  abortReason: unknown;
  #release: (() => void) | undefined;
  readonly failWith: Error | undefined;

  constructor(failWith?: Error) {
    this.failWith = failWith;
  }

  validate(): Record<string, unknown> {
    return {};
  }

  async run(ctx: ActionContext<unknown>) {
    this.started = ctx;
    await ctx.progress(50, 'working');
    if (this.failWith) throw this.failWith;
    await new Promise<void>((resolve, reject) => {
      this.#release = resolve;
      ctx.signal.addEventListener('abort', () => {
        this.abortReason = ctx.signal.reason;
        reject(new ActionCancelled({ message: 'unwound' }));
      });
    });
    return { kind: 'completed' as const, outcome: { ok: true } };
  }

  async recover() {
    return { kind: 'completed' as const, outcome: { recovered: true } };
  }

  release(): void {
    this.#release?.();
  }
}

async function setUp(handler: ActionHandler = new GatedHandler()) {
  const cluster = await memoryCluster();
  const master = new FakeMaster(cluster.store);
  const engine = new ActionEngine({
    ...cluster,
    master: master.role,
    registry: new HandlerRegistry().register(handler),
    settings: defaultEngineSettings,
    log: silent,
  });
  const run = (uid: string): ActionRun | undefined => cluster.view.read(runKey(cluster.keys, uid));
  /** Stores a run (and its pointers) as the submitter would. */
  const submit = async (stored: ActionRun): Promise<ActionRun> => {
    const { store, keys } = cluster;
    store.put(keys.action(stored.action_uid), JSON.stringify(stored));
    store.put(keys.clusterAction(stored.name), stored.action_uid);
    await cluster.view.waitFor(store.put(keys.activeAction(stored.name), stored.action_uid));
    return stored;
  };
  const statusOf = (uid: string): string | undefined => run(uid)?.status;
  const until = (what: string, uid: string, status: string) => waitFor(what, () => statusOf(uid) === status);
  return { ...cluster, master, engine, run, submit, statusOf, until };
}

describe('ActionEngine', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });
  const started = async (handler?: ActionHandler) => {
    const t = await setUp(handler);
    t.engine.start();
    stop = async () => {
      t.engine.stop();
      await t.view.close();
    };
    return t;
  };

  it('claims a queued run only while master, then runs it to completion and releases active/<name>', async () => {
    const handler = new GatedHandler();
    const t = await started(handler);
    const queued = await t.submit(newRun('gated', {}, 'admin'));
    await new Promise((r) => setImmediate(r));
    assert.equal(t.statusOf(queued.action_uid), 'queued', 'no term: nothing is claimed');

    t.master.elect();
    await t.until('running', queued.action_uid, 'running');
    assert.equal(t.run(queued.action_uid)?.node_uid, '1');
    await waitFor('progress', () => t.run(queued.action_uid)?.progress === 50);
    handler.release();
    await t.until('completed', queued.action_uid, 'completed');
    assert.deepEqual(t.run(queued.action_uid)?.outcome, { ok: true });
    assert.equal(t.view.get(t.keys.activeAction('gated')), undefined);
  });

  it('turns a cancel into a RunCancelled abort, and the unwound run into cancelled', async () => {
    const handler = new GatedHandler();
    const t = await started(handler);
    t.master.elect();
    const queued = await t.submit(newRun('gated', {}, 'admin'));
    await t.until('running', queued.action_uid, 'running');
    // The submitter's DELETE, written by another node.
    t.store.put(
      t.keys.action(queued.action_uid),
      JSON.stringify(moveToCancelling(t.run(queued.action_uid)!)),
    );
    await t.until('cancelled', queued.action_uid, 'cancelled');
    assert.ok(handler.abortReason instanceof RunCancelled, String(handler.abortReason));
    assert.deepEqual(t.run(queued.action_uid)?.outcome, { message: 'unwound' });
  });

  it('aborts with MasterDeposed when the term ends, and leaves the run for the next master', async () => {
    const handler = new GatedHandler();
    const t = await started(handler);
    t.master.elect();
    const queued = await t.submit(newRun('gated', {}, 'admin'));
    await waitFor('progress', () => t.run(queued.action_uid)?.progress === 50);
    const writes = t.store.txns;
    t.master.depose('lease lost');
    await waitFor('the abort', () => handler.abortReason !== undefined);
    assert.ok(handler.abortReason instanceof MasterDeposed);
    assert.equal(handler.abortReason.why, 'lease lost');
    await new Promise((r) => setImmediate(r));
    assert.equal(t.statusOf(queued.action_uid), 'running', 'a deposed master writes nothing more');
    assert.equal(t.store.txns, writes);
  });

  it('aborts with NodeStopping when the node stops', async () => {
    const handler = new GatedHandler();
    const t = await started(handler);
    t.master.elect();
    const queued = await t.submit(newRun('gated', {}, 'admin'));
    await t.until('running', queued.action_uid, 'running');
    t.engine.stop();
    await waitFor('the abort', () => handler.abortReason !== undefined);
    assert.ok(handler.abortReason instanceof NodeStopping);
  });

  it('fails a run whose handler throws an unexpected error with internal_error', async () => {
    const t = await started(new GatedHandler(new Error('boom')));
    t.master.elect();
    const queued = await t.submit(newRun('gated', {}, 'admin'));
    await t.until('failed', queued.action_uid, 'failed');
    assert.equal(t.run(queued.action_uid)?.error_code, 'internal_error');
    assert.match(t.run(queued.action_uid)?.error_message ?? '', /boom/);
  });

  it('fails a run no handler exists for with unsupported_action', async () => {
    const t = await started();
    t.master.elect();
    const queued = await t.submit(newRun('nobody_runs_this', {}, 'admin'));
    await t.until('failed', queued.action_uid, 'failed');
    assert.equal(t.run(queued.action_uid)?.error_code, 'unsupported_action');
  });

  it('fails a run an earlier master left starting: master_lost, it never ran', async () => {
    const t = await started();
    const starting = await t.submit(moveToStarting(newRun('gated', {}, 'admin'), 7));
    t.master.elect(2);
    await t.until('failed', starting.action_uid, 'failed');
    assert.equal(t.run(starting.action_uid)?.error_code, 'master_lost');
    assert.match(t.run(starting.action_uid)?.error_message ?? '', /Master node 7/);
  });

  it('asks the handler to recover a run an earlier master left running, and records its outcome', async () => {
    const t = await started();
    const running = await t.submit(moveToRunning(moveToStarting(newRun('gated', {}, 'admin'), 7)));
    t.master.elect(2);
    await t.until('completed', running.action_uid, 'completed');
    assert.deepEqual(t.run(running.action_uid)?.outcome, { recovered: true });
  });
});
