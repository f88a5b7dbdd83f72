/**
 * The change_master handler on its own, through a mock context (no engine, no store): a fake
 * ClusterControl records what the handler asks of the cluster, progress reports are recorded, and an
 * AbortController stands in for DELETE.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { pino } from 'pino';

import {
  ActionCancelled,
  ActionFailure,
  type ActionContext,
  type ClusterControl,
  type HandOverResult,
  type MasterView,
  type MemberView,
  type RecoveryContext,
  type RunUpdate,
} from '../../src/actions/handler.js';
import {
  changeMaster,
  parseNodeUid,
  type ChangeMasterParams,
} from '../../src/actions/handlers/change-master.js';
import { moveToRunning, moveToStarting, newRun, type ActionRun } from '../../src/actions/run.js';
import { BosunError, type ErrorCode } from '../../src/errors/catalogue.js';
import { RunCancelled } from '../../src/errors/abort-reasons.js';

const silent = pino({ level: 'silent' });

interface HandOverCall {
  readonly to: number;
  readonly actionUid: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly record: RunUpdate | undefined;
}

/** A three-node cluster as the handler sees it; node 1 is master unless told otherwise. */
class FakeCluster implements ClusterControl {
  readonly members = new Map<number, MemberView>();
  masterView: MasterView | undefined;
  readonly handOverCalls: HandOverCall[] = [];
  pauses = 0;
  resumes = 0;
  /** What handOver does; by default it waits for the signal and answers 'cancelled'. */
  handOverImpl: (call: HandOverCall) => Promise<HandOverResult> = (call) =>
    new Promise((resolve) => {
      if (call.signal.aborted) resolve({ kind: 'cancelled' });
      else call.signal.addEventListener('abort', () => resolve({ kind: 'cancelled' }), { once: true });
    });
  #handOverStarted: (() => void) | undefined;
  readonly handOverStarted = new Promise<void>((resolve) => (this.#handOverStarted = resolve));

  constructor(
    readonly selfUid = 1,
    epoch = 4,
  ) {
    for (const uid of [1, 2, 3]) this.members.set(uid, { uid, active: true });
    this.masterView = { node_uid: selfUid, epoch };
  }

  master(): MasterView | undefined {
    return this.masterView;
  }

  member(uid: number): MemberView | undefined {
    return this.members.get(uid);
  }

  pauseNewWork(): () => void {
    this.pauses++;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.resumes++;
    };
  }

  handOver(
    to: number,
    actionUid: string,
    options: { timeoutMs: number; signal: AbortSignal; record?: RunUpdate },
  ): Promise<HandOverResult> {
    const call = {
      to,
      actionUid,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      record: options.record,
    };
    this.handOverCalls.push(call);
    this.#handOverStarted?.();
    return this.handOverImpl(call);
  }
}

interface MockContext {
  readonly ctx: ActionContext<ChangeMasterParams>;
  readonly cluster: FakeCluster;
  readonly controller: AbortController;
  readonly progress: { pct: number; phase: string | undefined }[];
  readonly updates: RunUpdate[];
}

function runningRun(target: number): ActionRun {
  return moveToRunning(moveToStarting(newRun('change_master', { node_uid: target }, 'admin@test.local'), 1));
}

function mockContext(target: number, cluster = new FakeCluster(), handoverTimeoutMs = 1234): MockContext {
  const controller = new AbortController();
  const progress: MockContext['progress'] = [];
  const updates: RunUpdate[] = [];
  const ctx: ActionContext<ChangeMasterParams> = {
    run: runningRun(target),
    params: { node_uid: target },
    signal: controller.signal,
    log: silent,
    cluster,
    settings: { handoverTimeoutMs },
    progress: async (pct, phase) => {
      progress.push({ pct, phase });
    },
    update: async (fields) => {
      updates.push(fields);
    },
  };
  return { ctx, cluster, controller, progress, updates };
}

function isBosunError(code: ErrorCode) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof BosunError, `expected a BosunError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

function isFailure(code: ErrorCode, ...mentions: string[]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ActionFailure, `expected an ActionFailure, got ${String(err)}`);
    assert.equal(err.code, code);
    for (const m of mentions) assert.ok(err.message.includes(m), `"${err.message}" should mention "${m}"`);
    return true;
  };
}

/** Every reported progress value lies in 0..100 and none goes backwards. */
function assertMonotonic(m: MockContext): void {
  const values = [
    ...m.progress.map((p) => p.pct),
    ...m.updates.flatMap((u) => (u.progress === undefined ? [] : [u.progress])),
  ];
  let last = 0;
  for (const v of values) {
    assert.ok(v >= 0 && v <= 100, `progress ${v} out of range`);
    assert.ok(v >= last, `progress went back from ${last} to ${v}`);
    last = v;
  }
}

describe('change_master: parseNodeUid', () => {
  it('accepts positive integers and decimal strings of them', () => {
    assert.equal(parseNodeUid(2), 2);
    assert.equal(parseNodeUid('2'), 2);
    assert.equal(parseNodeUid('17'), 17);
    assert.equal(parseNodeUid(' 3 '), 3);
  });

  it('rejects everything else', () => {
    for (const v of [
      0,
      -1,
      1.5,
      Number.NaN,
      Infinity,
      '0',
      '-1',
      '1.5',
      '02',
      'abc',
      '',
      '2a',
      '0x2',
      null,
      true,
      [2],
      {},
    ]) {
      assert.equal(parseNodeUid(v), undefined, JSON.stringify(v));
    }
  });
});

describe('change_master: validate', () => {
  const cluster = new FakeCluster();
  cluster.members.set(4, { uid: 4, active: false });

  it('accepts "2" and 2 alike', () => {
    assert.deepEqual(changeMaster.validate({ node_uid: '2' }, cluster), { node_uid: 2 });
    assert.deepEqual(changeMaster.validate({ node_uid: 2 }, cluster), { node_uid: 2 });
  });

  it('accepts the current master (the run then completes as a no-op)', () => {
    assert.deepEqual(changeMaster.validate({ node_uid: '1' }, cluster), { node_uid: 1 });
  });

  const badBodies: [string, unknown][] = [
    ['an empty object', {}],
    ['node_uid 0', { node_uid: 0 }],
    ['node_uid -1', { node_uid: -1 }],
    ['node_uid "abc"', { node_uid: 'abc' }],
    ['node_uid 1.5', { node_uid: 1.5 }],
    ['node_uid null', { node_uid: null }],
    ['node_uid as an array', { node_uid: [2] }],
    ['node_uid true', { node_uid: true }],
    ['node_uid "0"', { node_uid: '0' }],
    ['a null body', null],
    ['an array body', [{ node_uid: 2 }]],
    ['a string body', '2'],
    ['a number body', 2],
  ];
  for (const [label, body] of badBodies) {
    it(`rejects ${label} with invalid_schema (400)`, () => {
      assert.throws(() => changeMaster.validate(body, cluster), isBosunError('invalid_schema'));
    });
  }

  it('names the missing field', () => {
    assert.throws(
      () => changeMaster.validate({}, cluster),
      (err: unknown) => err instanceof BosunError && err.message.includes('node_uid'),
    );
  });

  it('rejects an unknown node with node_not_found (404), naming it', () => {
    assert.throws(() => changeMaster.validate({ node_uid: '9' }, cluster), isBosunError('node_not_found'));
    assert.throws(
      () => changeMaster.validate({ node_uid: 9 }, cluster),
      (err: unknown) => err instanceof Error && err.message.includes('9'),
    );
  });

  it('rejects an inactive node with node_not_active (406), naming it', () => {
    assert.throws(() => changeMaster.validate({ node_uid: 4 }, cluster), isBosunError('node_not_active'));
    assert.throws(
      () => changeMaster.validate({ node_uid: '4' }, cluster),
      (err: unknown) => err instanceof Error && err.message.includes('4'),
    );
  });
});

describe('change_master: run', () => {
  it('completes at once as a no-op when the target is already master', async () => {
    const m = mockContext(1);
    const result = await changeMaster.run(m.ctx);
    assert.equal(result.kind, 'completed');
    assert.ok(result.kind === 'completed');
    assert.equal(result.outcome.noop, true);
    assert.equal(result.outcome.old_master, '1');
    assert.equal(result.outcome.new_master, '1');
    assert.equal(result.outcome.epoch, 4);
    assert.match(String(result.outcome.message), /already the master/);
    assert.equal(m.cluster.handOverCalls.length, 0, 'no hand-over is attempted');
    assert.equal(m.cluster.pauses, 0, 'new work is never paused');
    assertMonotonic(m);
  });

  it('hands off when the target takes over: pauses new work, checkpoints, reports progress, then resumes', async () => {
    const m = mockContext(2, new FakeCluster(), 4321);
    m.cluster.handOverImpl = async () => ({ kind: 'taken_over' });
    const result = await changeMaster.run(m.ctx);
    assert.deepEqual(result, { kind: 'handed_off' });

    assert.equal(m.cluster.handOverCalls.length, 1);
    const call = m.cluster.handOverCalls[0]!;
    assert.equal(call.to, 2);
    assert.equal(call.actionUid, m.ctx.run.action_uid);
    assert.equal(call.timeoutMs, 4321, 'the configured hand-over timeout is passed on');
    assert.equal(call.signal, m.ctx.signal, 'the run signal is passed on, so a cancel reaches the hand-over');

    assert.equal(m.cluster.pauses, 1);
    assert.equal(m.cluster.resumes, 1);

    // Validation is in memory and writes nothing; the hand-over's bookkeeping rides in the intent.
    assert.equal(m.progress.length, 0);
    assert.equal(m.updates.length, 0);
    const handing = call.record;
    assert.ok(handing?.phase === 'handing_over', 'the handing_over phase is recorded with the intent');
    assert.equal(handing.progress, 40);
    assert.equal(handing.cancellable, false, 'past the intent, a cancel can no longer be promised');
    const cp = handing.checkpoint;
    assert.ok(cp, 'a checkpoint is stored for whoever finishes the run');
    assert.equal(cp.from, 1);
    assert.equal(cp.to, 2);
    assert.equal(cp.from_epoch, 4);
    assert.equal(typeof cp.intent_at, 'number');
    assert.equal(typeof cp.claimed_at, 'number');
    assertMonotonic(m);
  });

  it("records the handing_over phase in the intent's own write, not in one of its own", async () => {
    const m = mockContext(3);
    m.cluster.handOverImpl = async () => ({ kind: 'taken_over' });
    await changeMaster.run(m.ctx);
    assert.equal(m.updates.length, 0);
    assert.ok(m.cluster.handOverCalls[0]!.record?.checkpoint !== undefined);
  });

  it('fails with handover_timeout, naming both nodes, and stays master', async () => {
    const m = mockContext(2, new FakeCluster(), 2500);
    m.cluster.handOverImpl = async () => ({ kind: 'timeout' });
    await assert.rejects(changeMaster.run(m.ctx), (err: unknown) => {
      isFailure('handover_timeout', 'Node 2', 'node 1', '2500 ms')(err);
      assert.ok(err instanceof ActionFailure);
      assert.deepEqual(err.outcome, { old_master: '1', new_master: '1' });
      return true;
    });
    assert.equal(m.cluster.resumes, 1, 'new work resumes after a failed hand-over');
  });

  it('fails with handover_target_lost, naming both nodes, when the target vanishes', async () => {
    const m = mockContext(3);
    m.cluster.handOverImpl = async () => ({ kind: 'target_lost' });
    await assert.rejects(changeMaster.run(m.ctx), (err: unknown) => {
      isFailure('handover_target_lost', 'Node 3', 'node 1')(err);
      assert.ok(err instanceof ActionFailure);
      assert.deepEqual(err.outcome, { old_master: '1', new_master: '1' });
      return true;
    });
    assert.equal(m.cluster.resumes, 1);
  });

  it('is cancelled when the signal aborts during the hand-over', async () => {
    const m = mockContext(2);
    const running = changeMaster.run(m.ctx);
    await m.cluster.handOverStarted;
    assert.equal(m.cluster.resumes, 0, 'still paused while handing over');
    m.controller.abort(new RunCancelled());
    await assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof ActionCancelled, `expected ActionCancelled, got ${String(err)}`);
      assert.match(String(err.outcome?.message), /node 1 remains master/);
      return true;
    });
    assert.equal(m.cluster.resumes, 1);
  });

  it('is cancelled without any hand-over when the signal aborted before the intent', async () => {
    const m = mockContext(2);
    m.controller.abort(new RunCancelled());
    await assert.rejects(changeMaster.run(m.ctx), ActionCancelled);
    assert.equal(m.cluster.handOverCalls.length, 0);
    assert.equal(m.cluster.pauses, m.cluster.resumes, 'every pause is resumed');
  });

  it('fails with node_not_active when the target went down after the POST', async () => {
    const cluster = new FakeCluster();
    cluster.members.set(2, { uid: 2, active: false });
    const m = mockContext(2, cluster);
    await assert.rejects(changeMaster.run(m.ctx), isFailure('node_not_active', '2'));
    assert.equal(cluster.handOverCalls.length, 0);
  });

  it('fails with node_not_found when the target was removed after the POST', async () => {
    const cluster = new FakeCluster();
    cluster.members.delete(3);
    const m = mockContext(3, cluster);
    await assert.rejects(changeMaster.run(m.ctx), isFailure('node_not_found', '3'));
    assert.equal(cluster.handOverCalls.length, 0);
  });

  it('lets a deposition during the hand-over through, and still resumes new work', async () => {
    const m = mockContext(2);
    const deposed = new Error('deposed while handing over');
    m.cluster.handOverImpl = async () => {
      throw deposed;
    };
    await assert.rejects(changeMaster.run(m.ctx), (err: unknown) => err === deposed);
    assert.equal(m.cluster.resumes, 1);
  });
});

describe('change_master: recover', () => {
  interface RecoverOptions {
    readonly selfUid?: number;
    readonly target?: number;
    readonly checkpoint?: Record<string, unknown> | undefined;
    readonly nodeUid?: string | undefined;
    readonly viaAction?: 'this' | 'other' | undefined;
    readonly previous?: RecoveryContext<ChangeMasterParams>['term']['previous'] | 'via-this';
    readonly members?: Record<number, boolean>;
    readonly epoch?: number;
    readonly since?: number;
  }

  function recoveryContext(o: RecoverOptions = {}): RecoveryContext<ChangeMasterParams> {
    const target = o.target ?? 2;
    const cluster = new FakeCluster(o.selfUid ?? 2, o.epoch ?? 5);
    for (const [uid, active] of Object.entries(o.members ?? {}))
      cluster.members.set(Number(uid), { uid: Number(uid), active });
    const base = runningRun(target);
    const run: ActionRun = {
      ...base,
      node_uid: 'nodeUid' in o ? o.nodeUid : base.node_uid,
      checkpoint: 'checkpoint' in o ? o.checkpoint : undefined,
    };
    const viaAction =
      o.viaAction === 'this' ? run.action_uid : o.viaAction === 'other' ? 'some-other-run' : undefined;
    const previous =
      o.previous === 'via-this'
        ? { epoch: (o.epoch ?? 5) - 1, node_uid: target, via_action: run.action_uid }
        : o.previous;
    return {
      run,
      params: { node_uid: target },
      cluster,
      term: { epoch: o.epoch ?? 5, since: o.since ?? Date.now(), viaAction, previous },
    };
  }

  it('completes on the new master when its term came from this run, with the measured outcome', async () => {
    const intentAt = Date.now() - 50;
    const ctx = recoveryContext({
      selfUid: 2,
      target: 2,
      epoch: 7,
      since: intentAt + 10,
      viaAction: 'this',
      checkpoint: { from: 1, to: 2, from_epoch: 6, intent_at: intentAt, claimed_at: intentAt - 5 },
    });
    const result = await changeMaster.recover(ctx);
    assert.equal(result.kind, 'completed');
    assert.ok(result.kind === 'completed');
    const o = result.outcome;
    assert.equal(o.old_master, '1');
    assert.equal(o.new_master, '2');
    assert.equal(o.epoch, 7);
    assert.equal(typeof o.handover_ms, 'number');
    assert.ok((o.handover_ms as number) >= 0);
    assert.equal(o.no_master_window_ms, 10);
    assert.equal(typeof o.server_total_ms, 'number');
    assert.ok((o.server_total_ms as number) >= (o.handover_ms as number));
    assert.equal(o.noop, undefined);
  });

  it("completes from its own term alone, when the old master's checkpoint never landed", async () => {
    const intentAt = Date.now() - 20;
    const base = recoveryContext({ selfUid: 2, target: 2, epoch: 9, since: intentAt + 4, viaAction: 'this' });
    const ctx = { ...base, term: { ...base.term, intentAt, previous: { epoch: 8, node_uid: 1 } } };
    const result = await changeMaster.recover(ctx);
    assert.ok(result.kind === 'completed');
    assert.equal(result.outcome.old_master, '1');
    assert.equal(result.outcome.no_master_window_ms, 4);
    assert.ok((result.outcome.handover_ms as number) >= 20);
  });

  it('never reports a negative no-master window', async () => {
    const intentAt = Date.now();
    const ctx = recoveryContext({
      viaAction: 'this',
      since: intentAt - 1000,
      checkpoint: { from: 1, to: 2, from_epoch: 6, intent_at: intentAt, claimed_at: intentAt },
    });
    const result = await changeMaster.recover(ctx);
    assert.ok(result.kind === 'completed');
    assert.equal(result.outcome.no_master_window_ms, 0);
  });

  it('fails with master_lost when the target took over but died before confirming', async () => {
    const ctx = recoveryContext({
      selfUid: 3,
      target: 2,
      epoch: 8,
      viaAction: undefined,
      previous: 'via-this',
      checkpoint: { from: 1, to: 2, from_epoch: 6, intent_at: Date.now(), claimed_at: Date.now() },
      members: { 2: false },
    });
    await assert.rejects(changeMaster.recover(ctx), (err: unknown) => {
      isFailure(
        'master_lost',
        'Node 2 took over as master (epoch 7)',
        'node 3 was elected master (epoch 8)',
      )(err);
      assert.ok(err instanceof ActionFailure);
      assert.deepEqual(err.outcome, { old_master: '1', new_master: '3', epoch: 8 });
      return true;
    });
  });

  it('fails with handover_target_lost when both the target and the old master died', async () => {
    const ctx = recoveryContext({
      selfUid: 3,
      target: 2,
      epoch: 7,
      checkpoint: { from: 1, to: 2, from_epoch: 6, intent_at: Date.now(), claimed_at: Date.now() },
      members: { 2: false },
    });
    await assert.rejects(
      changeMaster.recover(ctx),
      isFailure(
        'handover_target_lost',
        'Node 2 left the cluster during the hand-over',
        'master node 1 was lost too',
        'node 3 was elected master (epoch 7)',
      ),
    );
  });

  it('treats an unknown target like a lost one', async () => {
    const ctx = recoveryContext({ selfUid: 3, target: 9, nodeUid: '1' });
    await assert.rejects(
      changeMaster.recover(ctx),
      isFailure('handover_target_lost', 'Node 9', 'master node 1'),
    );
  });

  it('fails with master_lost when the old master died and the target lives', async () => {
    const ctx = recoveryContext({
      selfUid: 3,
      target: 2,
      epoch: 7,
      checkpoint: { from: 1, to: 2, from_epoch: 6, intent_at: Date.now(), claimed_at: Date.now() },
    });
    await assert.rejects(changeMaster.recover(ctx), (err: unknown) => {
      isFailure(
        'master_lost',
        'Master node 1 was lost before the hand-over to node 2 finished',
        'node 3 was elected master',
      )(err);
      assert.ok(err instanceof ActionFailure);
      assert.deepEqual(err.outcome, { old_master: '1', new_master: '3', epoch: 7 });
      return true;
    });
  });

  it('fails with master_lost when the target itself was elected the ordinary way', async () => {
    const ctx = recoveryContext({
      selfUid: 2,
      target: 2,
      epoch: 7,
      viaAction: 'other',
      checkpoint: { from: 1, to: 2, from_epoch: 6, intent_at: Date.now(), claimed_at: Date.now() },
    });
    await assert.rejects(
      changeMaster.recover(ctx),
      isFailure('master_lost', 'Master node 1', 'node 2 was elected master'),
    );
  });

  it('names the old master from node_uid when the master died before checkpointing', async () => {
    const ctx = recoveryContext({ selfUid: 3, target: 2, nodeUid: '1' });
    await assert.rejects(changeMaster.recover(ctx), (err: unknown) => {
      isFailure('master_lost', 'Master node 1 was lost')(err);
      assert.ok(err instanceof ActionFailure);
      assert.equal(err.outcome?.old_master, '1');
      return true;
    });
  });

  it('still says something true when nothing names the old master', async () => {
    const ctx = recoveryContext({ selfUid: 3, target: 2, nodeUid: undefined });
    await assert.rejects(changeMaster.recover(ctx), (err: unknown) => {
      isFailure('master_lost', 'The master was lost before the hand-over to node 2')(err);
      assert.ok(err instanceof ActionFailure);
      assert.equal(err.outcome?.old_master, undefined);
      return true;
    });
  });

  it('does not complete a run it was not made master by, even with a checkpoint', async () => {
    const ctx = recoveryContext({
      viaAction: 'other',
      selfUid: 3,
      checkpoint: { from: 1, to: 2, from_epoch: 6, intent_at: Date.now(), claimed_at: Date.now() },
    });
    await assert.rejects(changeMaster.recover(ctx), ActionFailure);
  });
});
