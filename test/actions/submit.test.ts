/**
 * ActionSubmitter on its own (src/actions/submit.ts): the real view and state on an in-memory store
 * (fakes.ts). A submission is one compare-and-swap that makes a run of a name single-instance; a
 * DELETE cancels or flags what is unfinished and removes the status of what is finished.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ActionHandler } from '../../src/actions/handler.js';
import { HandlerRegistry } from '../../src/actions/registry.js';
import {
  moveToCompleted,
  moveToRunning,
  moveToStarting,
  runKey,
  type ActionRun,
} from '../../src/actions/run.js';
import { changeMaster } from '../../src/actions/handlers/change-master.js';
import { ActionSubmitter } from '../../src/actions/submit.js';
import type { MemberRecord, NodeRecord } from '../../src/cluster/keys.js';
import { BosunError } from '../../src/errors/catalogue.js';
import { TxnOutcomeUnknownError } from '../../src/store/errors.js';
import { memoryCluster } from './fakes.js';

const echo: ActionHandler = {
  name: 'echo',
  validate(body) {
    if (typeof body !== 'object' || body === null)
      throw new BosunError('invalid_schema', 'an object, please');
    return body as Record<string, unknown>;
  },
  run: async () => ({ kind: 'completed', outcome: {} }),
  recover: async () => ({ kind: 'completed', outcome: {} }),
};

async function setUp() {
  const cluster = await memoryCluster();
  const submitter = new ActionSubmitter({ ...cluster, registry: new HandlerRegistry().register(echo) });
  const stored = (uid: string): ActionRun | undefined => cluster.view.read(runKey(cluster.keys, uid));
  /** Moves a stored run as the master would. */
  const rewrite = async (run: ActionRun): Promise<void> => {
    await cluster.view.waitFor(cluster.store.put(cluster.keys.action(run.action_uid), JSON.stringify(run)));
  };
  return { ...cluster, submitter, stored, rewrite };
}

const isCode = (code: string) => (err: unknown) => err instanceof BosunError && err.code === code;

describe('ActionSubmitter', () => {
  it('stores a queued run, points the name at it and holds active/<name>; the view has it on return', async () => {
    const t = await setUp();
    const run = await t.submitter.submit('echo', { a: 1 }, 'admin@test', 'req-1');
    assert.equal(run.status, 'queued');
    assert.deepEqual(run.params, { a: 1 });
    assert.equal(run.request_id, 'req-1');
    assert.deepEqual(t.stored(run.action_uid), run, 'read-your-writes: the view has it');
    assert.equal(t.view.get(t.keys.clusterAction('echo'))?.value, run.action_uid);
    assert.equal(t.view.get(t.keys.activeAction('echo'))?.value, run.action_uid);
  });

  it('refuses a second run of a name while one is queued or in flight (action_in_progress)', async () => {
    const t = await setUp();
    const first = await t.submitter.submit('echo', {}, undefined);
    await assert.rejects(t.submitter.submit('echo', {}, undefined), (err: unknown) => {
      assert.ok(isCode('action_in_progress')(err));
      assert.match((err as Error).message, new RegExp(first.action_uid));
      return true;
    });
  });

  it('refuses an unknown action, and passes the handler validation errors on', async () => {
    const t = await setUp();
    await assert.rejects(t.submitter.submit('nope', {}, undefined), isCode('unsupported_action'));
    await assert.rejects(t.submitter.submit('echo', 'text', undefined), isCode('invalid_schema'));
  });

  it('takes a submission whose outcome was unknown but which landed as accepted', async () => {
    const t = await setUp();
    t.store.faults.push({ mode: 'apply-then-throw', error: () => new TxnOutcomeUnknownError('lost') });
    const run = await t.submitter.submit('echo', {}, undefined);
    assert.equal(t.stored(run.action_uid)?.status, 'queued');
  });

  it('cancels a queued run at once and releases active/<name>', async () => {
    const t = await setUp();
    const run = await t.submitter.submit('echo', {}, undefined);
    const { result, run: after } = await t.submitter.cancel('echo');
    assert.equal(result, 'cancelled');
    assert.equal(after.status, 'cancelled');
    assert.equal(t.stored(run.action_uid)?.status, 'cancelled');
    assert.equal(t.view.get(t.keys.activeAction('echo')), undefined);
  });

  it('flags a starting run, moves a running one to cancelling, and leaves a cancelling one be', async () => {
    const t = await setUp();
    const run = await t.submitter.submit('echo', {}, undefined);
    const starting = moveToStarting(run, 1);
    await t.rewrite(starting);
    assert.equal((await t.submitter.cancel('echo')).result, 'cancelling');
    assert.equal(t.stored(run.action_uid)?.cancel_requested, true);
    assert.equal(t.stored(run.action_uid)?.status, 'starting');

    await t.rewrite(moveToRunning(starting));
    const cancelling = await t.submitter.cancel('echo');
    assert.equal(cancelling.run.status, 'cancelling');
    const writes = t.store.txns;
    assert.equal((await t.submitter.cancel('echo')).result, 'cancelling');
    assert.equal(t.store.txns, writes, 'a second DELETE while cancelling writes nothing');
  });

  it("removes a finished run's status, and then has none to show (action_not_found)", async () => {
    const t = await setUp();
    const run = await t.submitter.submit('echo', {}, undefined);
    await t.rewrite(moveToCompleted(moveToRunning(moveToStarting(run, 1)), {}));
    assert.equal((await t.submitter.cancel('echo')).result, 'removed');
    assert.equal(t.view.get(t.keys.clusterAction('echo')), undefined);
    assert.ok(t.stored(run.action_uid), 'the run itself stays in the history');
    await assert.rejects(t.submitter.cancel('echo'), isCode('action_not_found'));
  });

  it('takes a node that joined a moment ago, before the view has it: membership is confirmed by the store', async () => {
    const t = await setUp();
    const submitter = new ActionSubmitter({ ...t, registry: new HandlerRegistry().register(changeMaster) });
    const endpoint = {
      uid: 7,
      addr: '127.0.0.1',
      http_port: 1,
      https_port: 2,
      software_version: 't',
      hostname: 'h',
    };
    const member: MemberRecord = { ...endpoint, joined_at: 1 };
    const live: NodeRecord = { ...endpoint, pid: 1, cores: 1, total_memory: 1, started_at: 1 };
    // Node 7 registers elsewhere; this node's watch has not delivered it yet.
    t.store.holdWatch();
    t.store.put(t.keys.member(7).key, JSON.stringify(member));
    t.store.put(t.keys.node(7).key, JSON.stringify(live));
    assert.equal(t.state.member(7), undefined, 'the view is behind');
    const submitted = submitter.submit('change_master', { node_uid: 7 }, undefined);
    setImmediate(() => t.store.releaseWatch());
    const run = await submitted;
    assert.deepEqual(run.params, { node_uid: 7 });
  });

  it('still refuses a node the store has never heard of (node_not_found)', async () => {
    const t = await setUp();
    const submitter = new ActionSubmitter({ ...t, registry: new HandlerRegistry().register(changeMaster) });
    await assert.rejects(
      submitter.submit('change_master', { node_uid: 7 }, undefined),
      isCode('node_not_found'),
    );
  });
});
