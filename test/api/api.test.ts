/**
 * The REST API end to end on in-process nodes, through `inject()`: cluster actions (POST, GET,
 * DELETE, 409 and the "new run replaces the previous status" rule), `/v1/actions`, nodes, the cluster
 * object, users, JWTs, and bad input of every kind. A slow, controllable test action registered next
 * to change_master makes the in-flight states (running, cancelling, queued) observable without any
 * timing assumption.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import type { InjectOptions, LightMyRequestResponse } from 'fastify';

import { ActionCancelled, ActionFailure, type ActionHandler } from '../../src/actions/handler.js';
import { clusterActionHandlers } from '../../src/actions/registry.js';
import { allStatuses } from '../../src/actions/status.js';
import { BosunError } from '../../src/errors/catalogue.js';
import { RunCancelled } from '../../src/errors/abort-reasons.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  adminAuth,
  basic,
  startTestNode,
  type TestNode,
} from '../helpers/in-process-node.js';
import { expectError, poll } from './support.js';

// ---- a controllable test action ----

class Gate<T = void> {
  #resolve!: (value: T) => void;
  opened = false;
  readonly promise = new Promise<T>((resolve) => (this.#resolve = resolve));
  open(value: T): void {
    this.opened = true;
    this.#resolve(value);
  }
}

/** What the test holds to steer the current `slow_test` run. */
class SlowControl {
  /** Opens with the action_uid once run() begins. */
  started = new Gate<string>();
  /** Opens once progress 25 then 50 are stored. */
  progressed = new Gate();
  /** The test opens it to let the run complete (or fail, with `{"fail": true}`). */
  release = new Gate();
  /** Opens when the handler sees its signal abort. */
  cancelSeen = new Gate<unknown>();
  /** The test opens it to let a cancelled run unwind (throw ActionCancelled). */
  finishCancel = new Gate();
  /** Whether the run holds the engine's new-work pause while it runs. */
  holdEngine = false;

  reset(): void {
    this.openAll();
    this.started = new Gate<string>();
    this.progressed = new Gate();
    this.release = new Gate();
    this.cancelSeen = new Gate<unknown>();
    this.finishCancel = new Gate();
    this.holdEngine = false;
  }

  /** Unblocks whatever run is still waiting, so no handler outlives its test. */
  openAll(): void {
    this.release.open();
    this.finishCancel.open();
  }
}

const slow = new SlowControl();

interface SlowParams {
  readonly fail: boolean;
}

const slowHandler: ActionHandler<SlowParams> = {
  name: 'slow_test',
  validate(body) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new BosunError('invalid_schema', 'slow_test takes an object body.');
    }
    return { fail: (body as Record<string, unknown>).fail === true };
  },
  async run(ctx) {
    const control = slow;
    control.started.open(ctx.run.action_uid);
    const resume = control.holdEngine ? ctx.cluster.pauseNewWork() : undefined;
    try {
      await ctx.progress(25, 'first');
      await ctx.progress(50, 'second');
      control.progressed.open();
      const aborted = new Promise<'aborted'>((resolve) => {
        if (ctx.signal.aborted) resolve('aborted');
        else ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
      });
      const why = await Promise.race([control.release.promise.then(() => 'released' as const), aborted]);
      if (why === 'aborted') {
        control.cancelSeen.open(ctx.signal.reason);
        await control.finishCancel.promise;
        throw new ActionCancelled({ message: 'slow_test unwound' });
      }
      if (ctx.params.fail) throw new ActionFailure('internal_error', 'slow_test was told to fail.');
      return { kind: 'completed', outcome: { slow: true } };
    } finally {
      resume?.();
    }
  },
  async recover() {
    throw new ActionFailure('master_lost', 'slow_test cannot be recovered.');
  },
};

// ---- helpers ----

interface WireRun {
  action_uid: string;
  name: string;
  status: string;
  progress: number;
  node_uid?: string;
  creation_time: number;
  error_code?: string;
  error_message?: string;
  phase?: string;
  cancellable?: boolean;
  outcome?: Record<string, unknown>;
  [key: string]: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The wire contract of one action object (docs/re-contract.md, "The action object", docs/design.md, "Wire
 * format").
 */
function assertWireRun(run: WireRun): void {
  assert.match(run.action_uid, UUID);
  assert.equal(typeof run.name, 'string');
  assert.ok((allStatuses as readonly string[]).includes(run.status), `status ${run.status}`);
  assert.equal(typeof run.progress, 'number');
  assert.ok(run.progress >= 0 && run.progress <= 100, `progress ${run.progress}`);
  assert.ok(Number.isInteger(run.creation_time), 'creation_time is integer unix seconds');
  if (run.node_uid !== undefined) assert.equal(typeof run.node_uid, 'string');
  const failed = run.status === 'failed';
  assert.equal(typeof run.error_code === 'string', failed, `error_code only on failed (${run.status})`);
  assert.equal(typeof run.error_message === 'string', failed, `error_message only on failed (${run.status})`);
  assert.ok(!('checkpoint' in run), 'internal checkpoint leaked');
  assert.ok(!('cancel_requested' in run), 'internal cancel_requested leaked');
}

/**
 * A `/v1/actions` task entry: RE's strings for `progress`, `creation_time` (and `node_uid`), and
 * `task_id` equal to `action_uid` (the real capture in redis-enterprise-rs
 * tests/fixtures/actions_list.json). Checked, then read back as a run for the other assertions.
 */
type WireTaskEntry = Omit<WireRun, 'progress' | 'creation_time'> & {
  task_id: string;
  progress: string;
  creation_time: string;
};
function taskAsRun(task: WireTaskEntry): WireRun {
  assert.equal(typeof task.progress, 'string', 'task progress is a string');
  assert.equal(typeof task.creation_time, 'string', 'task creation_time is a string');
  assert.match(task.creation_time, /^[0-9]+$/);
  assert.equal(task.task_id, task.action_uid);
  const { task_id: _taskId, ...rest } = task;
  const run = {
    ...rest,
    progress: Number(task.progress),
    creation_time: Number(task.creation_time),
  } as WireRun;
  assertWireRun(run);
  return run;
}

function api(t: () => TestNode) {
  const call = async (options: InjectOptions): Promise<LightMyRequestResponse> =>
    t().node.app.inject({ ...options, headers: { authorization: adminAuth, ...options.headers } });
  const get = (url: string) => call({ method: 'GET', url });
  const post = (name: string, payload?: unknown) =>
    call({
      method: 'POST',
      url: `/v1/cluster/actions/${name}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const del = (name: string) => call({ method: 'DELETE', url: `/v1/cluster/actions/${name}` });
  const latest = async (name: string): Promise<WireRun | undefined> => {
    const res = await get(`/v1/cluster/actions/${name}`);
    if (res.statusCode === 404) return undefined;
    assert.equal(res.statusCode, 200, res.body);
    const run = res.json<WireRun>();
    assertWireRun(run);
    return run;
  };
  const waitStatus = (name: string, status: string): Promise<WireRun> =>
    poll(
      () => latest(name),
      (r) => r?.status === status,
      `${name} to be ${status}`,
    ) as Promise<WireRun>;
  const start = async (name: string, payload?: unknown): Promise<WireRun> => {
    const res = await post(name, payload);
    assert.equal(res.statusCode, 200, res.body);
    const run = res.json<WireRun>();
    assertWireRun(run);
    return run;
  };
  return { call, get, post, del, latest, waitStatus, start };
}

function registry() {
  return clusterActionHandlers().register(slowHandler);
}

// ---- the tests ----

describe('cluster actions API', () => {
  let t: TestNode;
  const { call, get, post, del, latest, waitStatus, start } = api(() => t);

  before(async () => {
    t = await startTestNode({ registry: registry() });
  });

  beforeEach(() => slow.reset());

  afterEach(async () => {
    // Let any slow_test run end, and wait for its status to settle, so tests do not leak into each other.
    slow.openAll();
    const run = await latest('slow_test');
    if (run)
      await poll(
        () => latest('slow_test'),
        (r) => !r || ['completed', 'failed', 'cancelled'].includes(r.status),
        'slow_test to end',
      );
  });

  after(async () => {
    slow.openAll();
    await t?.stop();
  });

  it('GET /v1/cluster/actions is {"actions": []} before any run', async () => {
    const res = await get('/v1/cluster/actions');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(res.json(), { actions: [] });
  });

  it('GET and DELETE of an action with no run → 404 action_not_found', async () => {
    expectError(await get('/v1/cluster/actions/change_master'), 404, 'action_not_found');
    expectError(await del('change_master'), 404, 'action_not_found');
    expectError(await get('/v1/cluster/actions/no_such_action'), 404, 'action_not_found');
    expectError(await del('no_such_action'), 404, 'action_not_found');
  });

  it('POST change_master to the master itself → 200 with action_uid, then completed as a no-op', async () => {
    const run = await start('change_master', { node_uid: '1' });
    assert.equal(run.name, 'change_master');
    assert.equal(run.status, 'queued');
    assert.equal(run.progress, 0);
    const done = await waitStatus('change_master', 'completed');
    assert.equal(done.action_uid, run.action_uid);
    assert.equal(done.progress, 100);
    assert.equal(done.node_uid, '1');
    assert.equal(done.outcome?.noop, true);
    assert.equal(done.outcome?.old_master, '1');
    assert.equal(done.outcome?.new_master, '1');
    assert.equal(done.cancellable, false);

    const list = (await get('/v1/cluster/actions')).json<{ actions: WireRun[] }>();
    assert.deepEqual(Object.keys(list), ['actions']);
    assert.equal(list.actions.length, 1);
    assert.equal(list.actions[0]!.action_uid, run.action_uid);
    for (const a of list.actions) assertWireRun(a);
  });

  it('POST change_master accepts node_uid as a number and as a string', async () => {
    for (const payload of [{ node_uid: 1 }, { node_uid: '1' }]) {
      const run = await start('change_master', payload);
      const done = await waitStatus('change_master', 'completed');
      assert.equal(done.action_uid, run.action_uid, JSON.stringify(payload));
      assert.equal(done.outcome?.noop, true);
    }
  });

  it('POST change_master with a missing or invalid node_uid → 400 invalid_schema, and nothing starts', async () => {
    const before = await latest('change_master');
    const bodies: unknown[] = [
      {},
      { node_uid: 0 },
      { node_uid: -1 },
      { node_uid: 'abc' },
      { node_uid: 1.5 },
      { node_uid: null },
      { node_uid: [1] },
      [1],
      '1',
    ];
    for (const body of bodies) {
      const res = await call({
        method: 'POST',
        url: '/v1/cluster/actions/change_master',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expectError(res, 400, 'invalid_schema');
    }
    expectError(await post('change_master'), 400, 'invalid_schema');
    assert.deepEqual(await latest('change_master'), before);
  });

  it('POST change_master to an unknown node → 404 node_not_found', async () => {
    expectError(await post('change_master', { node_uid: 99 }), 404, 'node_not_found');
    expectError(await post('change_master', { node_uid: '99' }), 404, 'node_not_found');
  });

  it('POST an unknown action → 400 unsupported_action, listing the supported ones', async () => {
    for (const name of ['no_such_action', 'reset', 'recover', 'CHANGE_MASTER']) {
      const res = await post(name, {});
      expectError(res, 400, 'unsupported_action');
      assert.match(res.json<{ description: string }>().description, /change_master/);
    }
  });

  it('reports progress and phase while running', async () => {
    const run = await start('slow_test', {});
    assert.equal(await slow.started.promise, run.action_uid);
    await slow.progressed.promise;
    const seen = await waitStatus('slow_test', 'running');
    const current = await poll(
      () => latest('slow_test'),
      (r) => r?.progress === 50,
      'progress 50',
    );
    assert.ok(seen.progress <= current!.progress, 'progress never goes back');
    assert.equal(current!.phase, 'second');
    assert.equal(current!.node_uid, '1');
    assert.equal(current!.cancellable, true);
    slow.release.open();
    const done = await waitStatus('slow_test', 'completed');
    assert.equal(done.progress, 100);
    assert.deepEqual(done.outcome, { slow: true });
  });

  it('409 action_in_progress while a run of that name is in flight; other names are not blocked', async () => {
    const first = await start('slow_test', {});
    await slow.started.promise;
    const res = await post('slow_test', {});
    expectError(res, 409, 'action_in_progress');
    assert.match(res.json<{ description: string }>().description, new RegExp(first.action_uid));
    // The single-instance rule is per action name.
    await start('change_master', { node_uid: 1 });
    await waitStatus('change_master', 'completed');
    // The 409 did not touch the running run.
    assert.equal((await latest('slow_test'))!.action_uid, first.action_uid);
    slow.release.open();
    await waitStatus('slow_test', 'completed');
    const second = await start('slow_test', {});
    assert.notEqual(second.action_uid, first.action_uid);
  });

  it('DELETE a running run → cancelling, then cancelled; 409 holds until it has ended', async () => {
    const run = await start('slow_test', {});
    await slow.progressed.promise;
    await waitStatus('slow_test', 'running');

    const res = await del('slow_test');
    assert.equal(res.statusCode, 200, res.body);
    const answered = res.json<WireRun>();
    assertWireRun(answered);
    assert.equal(answered.action_uid, run.action_uid);
    assert.equal(answered.status, 'cancelling');

    assert.ok(
      (await slow.cancelSeen.promise) instanceof RunCancelled,
      'the handler is aborted with a RunCancelled reason',
    );
    const cancelling = await latest('slow_test');
    assert.equal(cancelling!.status, 'cancelling', 'cancelling until the handler has unwound');
    assert.ok(cancelling!.progress >= 50, 'progress kept');

    const again = await del('slow_test');
    assert.equal(again.statusCode, 200, 'a second DELETE while cancelling is harmless');
    assert.equal(again.json<WireRun>().status, 'cancelling');
    expectError(await post('slow_test', {}), 409, 'action_in_progress');

    slow.finishCancel.open();
    const cancelled = await waitStatus('slow_test', 'cancelled');
    assert.equal(cancelled.action_uid, run.action_uid);
    assert.equal(cancelled.error_code, undefined);
    assert.equal(cancelled.outcome?.message, 'slow_test unwound');
  });

  it('DELETE a queued run → cancelled at once; it never runs', async () => {
    slow.holdEngine = true;
    await start('slow_test', {});
    await slow.progressed.promise;
    // The engine starts no new work while slow_test holds the pause, so this run stays queued.
    const queued = await start('change_master', { node_uid: 1 });
    assert.equal((await latest('change_master'))!.status, 'queued');

    const res = await del('change_master');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<WireRun>().status, 'cancelled');
    const cancelled = await latest('change_master');
    assert.equal(cancelled!.action_uid, queued.action_uid);
    assert.equal(cancelled!.status, 'cancelled');
    assert.equal(cancelled!.progress, 0);
    assert.equal(cancelled!.node_uid, undefined, 'no node ever claimed it');

    // A new run may be submitted at once, and runs once the engine resumes.
    const next = await start('change_master', { node_uid: 1 });
    assert.equal((await latest('change_master'))!.status, 'queued');
    slow.release.open();
    await waitStatus('slow_test', 'completed');
    const done = await waitStatus('change_master', 'completed');
    assert.equal(done.action_uid, next.action_uid);
    const old = taskAsRun((await get(`/v1/actions/${queued.action_uid}`)).json<WireTaskEntry>());
    assert.equal(old.status, 'cancelled', 'the cancelled run stayed cancelled');
  });

  it('a failing run is failed with error_code and error_message, and frees the name', async () => {
    await start('slow_test', { fail: true });
    await slow.started.promise;
    slow.release.open();
    const failed = await waitStatus('slow_test', 'failed');
    assert.equal(failed.error_code, 'internal_error');
    assert.equal(failed.error_message, 'slow_test was told to fail.');
    slow.reset();
    await start('slow_test', {});
  });

  it('DELETE a finished run removes its status: then GET → 404 and DELETE → 404', async () => {
    const run = await start('change_master', { node_uid: 1 });
    await waitStatus('change_master', 'completed');
    const res = await call({
      method: 'DELETE',
      url: '/v1/cluster/actions/change_master',
      // Clients send the JSON header on bodiless requests too: not an error.
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<WireRun>().action_uid, run.action_uid);
    expectError(await get('/v1/cluster/actions/change_master'), 404, 'action_not_found');
    expectError(await del('change_master'), 404, 'action_not_found');
    assert.ok(
      !(await get('/v1/cluster/actions'))
        .json<{ actions: WireRun[] }>()
        .actions.some((a) => a.name === 'change_master'),
    );
    // The run itself is still in the history.
    const kept = await get(`/v1/actions/${run.action_uid}`);
    assert.equal(kept.statusCode, 200);
    assert.equal(kept.json<WireRun>().status, 'completed');
  });

  it('submitting a new run removes the previous status from /v1/cluster/actions, not from /v1/actions', async () => {
    const first = await start('change_master', { node_uid: 1 });
    await waitStatus('change_master', 'completed');
    const second = await start('change_master', { node_uid: '1' });
    const shown = await latest('change_master');
    assert.equal(shown!.action_uid, second.action_uid, 'GET shows only the newest run');
    await waitStatus('change_master', 'completed');

    const list = (await get('/v1/cluster/actions')).json<{ actions: WireRun[] }>();
    const mine = list.actions.filter((a) => a.name === 'change_master');
    assert.deepEqual(
      mine.map((a) => a.action_uid),
      [second.action_uid],
    );

    const history = await get('/v1/actions');
    assert.equal(history.statusCode, 200);
    const body = history.json<{ actions: WireTaskEntry[]; 'state-machines': unknown[] }>();
    assert.deepEqual(Object.keys(body).sort(), ['actions', 'state-machines']);
    assert.deepEqual(body['state-machines'], []);
    const runs = body.actions.map(taskAsRun);
    const uids = runs.map((a) => a.action_uid);
    assert.ok(uids.includes(first.action_uid) && uids.includes(second.action_uid));
    const times = runs.map((a) => a.creation_time);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'oldest first',
    );
  });

  it('GET /v1/actions/{uid} returns one run; an unknown uid → 404', async () => {
    const run = await start('change_master', { node_uid: 1 });
    await waitStatus('change_master', 'completed');
    const res = await get(`/v1/actions/${run.action_uid}`);
    assert.equal(res.statusCode, 200);
    const one = taskAsRun(res.json<WireTaskEntry>());
    assert.equal(one.action_uid, run.action_uid);
    assert.equal(one.status, 'completed');
    expectError(await get('/v1/actions/00000000-0000-4000-8000-000000000000'), 404, 'action_not_found');
    expectError(await get('/v1/actions/not-a-uid'), 404, 'action_not_found');
    expectError(await get(`/v1/actions/${'x'.repeat(65)}`), 400, 'invalid_schema');
  });
});

describe('nodes and cluster API', () => {
  let t: TestNode;
  let second: TestNode | undefined;
  const { get, post, start, waitStatus } = api(() => t);

  // Two nodes in one busy test process: a longer lease keeps a late keep-alive from looking like a death.
  const leaseTtlMs = 3000;

  before(async () => {
    t = await startTestNode({ leaseTtlMs });
  });

  after(async () => {
    await second?.stop();
    await t?.stop();
  });

  it('GET /v1/nodes lists the node', async () => {
    const res = await get('/v1/nodes');
    assert.equal(res.statusCode, 200);
    const nodes = res.json<Record<string, unknown>[]>();
    assert.ok(Array.isArray(nodes));
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]!.uid, 1);
    assert.equal(nodes[0]!.status, 'active');
    assert.equal(typeof nodes[0]!.addr, 'string');
  });

  it('GET /v1/nodes/1 is the node object; /v1/nodes/99 and /v1/nodes/abc → 404', async () => {
    const res = await get('/v1/nodes/1');
    assert.equal(res.statusCode, 200);
    const node = res.json<Record<string, unknown>>();
    assert.equal(node.uid, 1);
    assert.equal(node.status, 'active');
    expectError(await get('/v1/nodes/99'), 404, 'node_not_found');
    expectError(await get('/v1/nodes/99/status'), 404, 'node_not_found');
    // A segment that is not a uid names no node: 404, not a 400 about the path's shape.
    expectError(await get('/v1/nodes/abc'), 404, 'node_not_found');
  });

  it('GET /v1/nodes/1/status has role master; /v1/nodes/status is keyed by uid string', async () => {
    const one = await get('/v1/nodes/1/status');
    assert.equal(one.statusCode, 200);
    assert.equal(one.json<{ role: string }>().role, 'master');
    assert.equal(one.json<{ node_status: string }>().node_status, 'active');
    const all = await get('/v1/nodes/status');
    assert.equal(all.statusCode, 200);
    const body = all.json<Record<string, { role: string }>>();
    assert.deepEqual(Object.keys(body), ['1']);
    assert.equal(body['1']!.role, 'master');
  });

  it('GET /v1/cluster is the cluster object, without a master field (as in Redis)', async () => {
    const res = await get('/v1/cluster');
    assert.equal(res.statusCode, 200);
    const cluster = res.json<Record<string, unknown>>();
    assert.equal(typeof cluster.name, 'string');
    assert.equal(cluster.http_support, true);
    assert.equal(cluster.nodes_count, 1);
    assert.ok(!('master' in cluster));
    assert.ok(!('jwt_secret' in cluster) && !JSON.stringify(cluster).includes('secret'));
  });

  it('with a second node: it shows as slave; change_master hands over to it and back', async () => {
    second = await startTestNode({ uid: 2, dataDir: t.dataDir, leaseTtlMs });
    const both = await get('/v1/nodes/status');
    const body = both.json<Record<string, { role: string }>>();
    assert.deepEqual(Object.keys(body).sort(), ['1', '2']);
    assert.equal(body['2']!.role, 'slave');

    const run = await start('change_master', { node_uid: 2 });
    const done = await waitStatus('change_master', 'completed');
    assert.equal(done.action_uid, run.action_uid);
    assert.equal(done.outcome?.old_master, '1');
    assert.equal(done.outcome?.new_master, '2');
    assert.equal(typeof done.outcome?.handover_ms, 'number');
    assert.equal((await get('/v1/nodes/2/status')).json<{ role: string }>().role, 'master');
    assert.equal((await get('/v1/nodes/1/status')).json<{ role: string }>().role, 'slave');

    // Any node answers any request: node 2 shows the same run.
    const viaTwo = await second.node.app.inject({
      url: '/v1/cluster/actions/change_master',
      headers: { authorization: adminAuth },
    });
    assert.equal(viaTwo.json<WireRun>().action_uid, run.action_uid);

    await start('change_master', { node_uid: '1' });
    const back = await waitStatus('change_master', 'completed');
    assert.equal(back.outcome?.new_master, '1');
  });

  it('POST change_master to a registered but stopped node → 406 node_not_active', async () => {
    assert.ok(second, 'the previous test started node 2');
    await second.stop();
    second = undefined;
    await poll(
      async () => (await get('/v1/nodes/2')).json<{ status: string }>().status,
      (s) => s === 'down',
      'node 2 to be down',
    );
    await poll(
      async () => (await get('/v1/nodes/1/status')).json<{ role: string }>().role,
      (r) => r === 'master',
      'node 1 to be master',
    );
    expectError(await post('change_master', { node_uid: 2 }), 406, 'node_not_active');
    expectError(await post('change_master', { node_uid: '2' }), 406, 'node_not_active');
  });
});

describe('users API', () => {
  let t: TestNode;
  const { call, get } = api(() => t);
  const createUser = (payload: Record<string, unknown>) =>
    call({ method: 'POST', url: '/v1/users', payload });
  const as = (authorization: string, url = '/v1/cluster/actions') =>
    t.node.app.inject({ method: 'GET', url, headers: { authorization } });

  before(async () => {
    t = await startTestNode();
  });

  after(async () => {
    await t?.stop();
  });

  const userKeys = [
    'auth_method',
    'email',
    'email_alerts',
    'name',
    'password_issue_date',
    'role',
    'role_uids',
    'status',
    'uid',
  ];

  it('creates a user, never showing the password hash; the role defaults to db_viewer', async () => {
    const res = await createUser({ email: 'carol@users.test', password: 'carol-password', name: 'Carol' });
    assert.equal(res.statusCode, 200, res.body);
    const user = res.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(user).sort(), userKeys);
    assert.equal(user.email, 'carol@users.test');
    assert.equal(user.name, 'Carol');
    assert.equal(user.role, 'db_viewer');
    assert.ok(!res.body.includes('carol-password'));
    assert.equal((await as(basic('carol@users.test', 'carol-password'))).statusCode, 200);
  });

  it('a duplicate email → 409 name_already_exists, whatever its case', async () => {
    expectError(
      await createUser({ email: 'carol@users.test', password: 'other-password' }),
      409,
      'name_already_exists',
    );
    expectError(
      await createUser({ email: 'CAROL@Users.Test', password: 'other-password' }),
      409,
      'name_already_exists',
    );
  });

  it('rejects invalid users with 400 invalid_schema', async () => {
    const bad: Record<string, unknown>[] = [
      { email: 'dave@users.test', password: 'short' },
      { email: 'not-an-email', password: 'long-enough-password' },
      { email: 'dave@users.test', password: 'long-enough-password', role: 'superuser' },
      { email: 'dave@users.test' },
      { password: 'long-enough-password' },
    ];
    for (const payload of bad) expectError(await createUser(payload), 400, 'invalid_schema');
    expectError(await call({ method: 'POST', url: '/v1/users' }), 400, 'invalid_schema');
  });

  it('gets users by list and by uid; an unknown uid → 404 user_not_exist', async () => {
    const list = await get('/v1/users');
    assert.equal(list.statusCode, 200);
    const users = list.json<Record<string, unknown>[]>();
    assert.deepEqual(
      users.map((u) => u.email),
      [ADMIN_EMAIL, 'carol@users.test'],
    );
    for (const u of users) assert.deepEqual(Object.keys(u).sort(), userKeys);
    const carol = users[1]!;
    const one = await get(`/v1/users/${String(carol.uid)}`);
    assert.equal(one.statusCode, 200);
    assert.deepEqual(one.json(), carol);
    expectError(await get('/v1/users/999'), 404, 'user_not_exist');
    expectError(await get('/v1/users/abc'), 404, 'user_not_exist');
  });

  it('updates the role and the password; the old password then gets 401', async () => {
    const created = await createUser({
      email: 'erin@users.test',
      password: 'erin-password-1',
      role: 'db_viewer',
    });
    const uid = created.json<{ uid: number }>().uid;
    const put = (payload: Record<string, unknown>) =>
      call({ method: 'PUT', url: `/v1/users/${uid}`, payload });

    expectError(
      await as(basic('erin@users.test', 'erin-password-1'), '/v1/users'),
      403,
      'unauthorized_action',
    );
    const promoted = await put({ role: 'user_manager' });
    assert.equal(promoted.statusCode, 200, promoted.body);
    assert.equal(promoted.json<{ role: string }>().role, 'user_manager');
    assert.equal((await as(basic('erin@users.test', 'erin-password-1'), '/v1/users')).statusCode, 200);

    const before = created.json<{ password_issue_date: string }>().password_issue_date;
    const changed = await put({ password: 'erin-password-2' });
    assert.equal(changed.statusCode, 200);
    assert.ok(changed.json<{ password_issue_date: string }>().password_issue_date >= before);
    expectError(await as(basic('erin@users.test', 'erin-password-1')), 401, 'unauthorized');
    assert.equal((await as(basic('erin@users.test', 'erin-password-2'))).statusCode, 200);

    expectError(await put({ email: 'carol@users.test' }), 409, 'name_already_exists');
    expectError(await put({ role: 'root' }), 400, 'invalid_schema');
    expectError(await put({ password: 'short' }), 400, 'invalid_schema');
    expectError(
      await call({ method: 'PUT', url: '/v1/users/999', payload: { role: 'admin' } }),
      404,
      'user_not_exist',
    );
  });

  it('deletes a user: then GET → 404, their credentials → 401, DELETE again → 404', async () => {
    const created = await createUser({ email: 'frank@users.test', password: 'frank-password' });
    const uid = created.json<{ uid: number }>().uid;
    assert.equal((await as(basic('frank@users.test', 'frank-password'))).statusCode, 200);
    const res = await call({ method: 'DELETE', url: `/v1/users/${uid}` });
    assert.equal(res.statusCode, 200, res.body);
    expectError(await get(`/v1/users/${uid}`), 404, 'user_not_exist');
    expectError(await as(basic('frank@users.test', 'frank-password')), 401, 'unauthorized');
    expectError(await call({ method: 'DELETE', url: `/v1/users/${uid}` }), 404, 'user_not_exist');
    expectError(await call({ method: 'DELETE', url: '/v1/users/999' }), 404, 'user_not_exist');
  });

  it('the email is free again after a delete', async () => {
    const res = await createUser({ email: 'frank@users.test', password: 'frank-password-2' });
    assert.equal(res.statusCode, 200, res.body);
  });

  // RE signs users in by name or email, so both are login identifiers in one namespace.
  it('names sign in too, are unique without regard to case, and never equal another user’s email', async () => {
    const res = await createUser({ name: 'gina', password: 'gina-password' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<{ email: string }>().email, '');
    assert.equal((await as(basic('gina', 'gina-password'))).statusCode, 200);
    assert.equal((await as(basic('GINA', 'gina-password'))).statusCode, 200);
    expectError(await createUser({ name: 'Gina', password: 'other-password' }), 409, 'name_already_exists');
    // A name that is another user's email, or an email that is another user's name.
    expectError(
      await createUser({ name: 'carol@users.test', password: 'other-password' }),
      409,
      'name_already_exists',
    );
    expectError(
      await createUser({ email: 'gina@users.test', name: 'gina', password: 'other-password' }),
      409,
      'name_already_exists',
    );
    const uid = res.json<{ uid: number }>().uid;
    // Renaming frees the old name; the user's own identifiers never block them.
    const renamed = await call({
      method: 'PUT',
      url: `/v1/users/${uid}`,
      payload: { name: 'gina2', email: 'gina2@users.test' },
    });
    assert.equal(renamed.statusCode, 200, renamed.body);
    expectError(await as(basic('gina', 'gina-password')), 401, 'unauthorized');
    assert.equal((await as(basic('gina2', 'gina-password'))).statusCode, 200);
    assert.equal((await as(basic('gina2@users.test', 'gina-password'))).statusCode, 200);
    assert.equal((await call({ method: 'DELETE', url: `/v1/users/${uid}` })).statusCode, 200);
    assert.equal((await createUser({ name: 'gina', password: 'gina-password-3' })).statusCode, 200);
  });

  // docs/re-contract.md, "Conventions": an unknown attribute or a value of the wrong type is a 400
  // `invalid_schema`. The route schemas say so (`additionalProperties: false`, string types); nothing may
  // strip or coerce.
  it('user bodies are validated strictly: unknown fields and wrong types → 400, never stripped or coerced', async () => {
    const bad: Record<string, unknown>[] = [
      { email: 'strict1@users.test', password: 'long-enough-password', extra: true },
      { email: 'strict2@users.test', password: 12345678901 },
      { email: 'strict3@users.test', password: 'long-enough-password', name: 5 },
      { email: 'strict4@users.test', password: 'long-enough-password', role: ['admin'] },
    ];
    for (const payload of bad) expectError(await createUser(payload), 400, 'invalid_schema');
    const created = await createUser({
      email: 'strict@users.test',
      password: 'long-enough-password',
      role: 'db_viewer',
    });
    const uid = created.json<{ uid: number }>().uid;
    const put = (payload: Record<string, unknown>) =>
      call({ method: 'PUT', url: `/v1/users/${uid}`, payload });
    expectError(await put({ bogus: 1 }), 400, 'invalid_schema');
    expectError(await put({ role: ['admin'] }), 400, 'invalid_schema');
    assert.equal((await get(`/v1/users/${uid}`)).json<{ role: string }>().role, 'db_viewer');
  });

  it('an admin cannot delete their own account', async () => {
    expectError(await call({ method: 'DELETE', url: '/v1/users/1' }), 400, 'invalid_schema');
    assert.equal((await as(adminAuth)).statusCode, 200);
  });
});

describe('JWT: POST /v1/users/authorize', () => {
  let t: TestNode;
  const authorize = (options: { authorization?: string; payload?: unknown } = {}) =>
    t.node.app.inject({
      method: 'POST',
      url: '/v1/users/authorize',
      headers: options.authorization === undefined ? {} : { authorization: options.authorization },
      ...(options.payload === undefined ? {} : { payload: options.payload as object }),
    });
  const tokenOf = async (options: Parameters<typeof authorize>[0]): Promise<string> => {
    const res = await authorize(options);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ access_token: string }>();
    assert.deepEqual(Object.keys(body), ['access_token']);
    assert.equal(body.access_token.split('.').length, 3);
    return body.access_token;
  };
  const withToken = (token: string, url = '/v1/cluster/actions') =>
    t.node.app.inject({ method: 'GET', url, headers: { authorization: `JWT ${token}` } });
  const createUser = (payload: Record<string, unknown>) =>
    t.node.app.inject({ method: 'POST', url: '/v1/users', headers: { authorization: adminAuth }, payload });

  before(async () => {
    t = await startTestNode();
  });

  after(async () => {
    await t?.stop();
  });

  it('issues a token for Basic credentials, which then works as `Authorization: JWT <token>`', async () => {
    const token = await tokenOf({ authorization: adminAuth });
    const res = await withToken(token);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(Object.keys(res.json<object>()), ['actions']);
  });

  it('also takes the credentials in the body (the older contract)', async () => {
    const token = await tokenOf({ payload: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    assert.equal((await withToken(token)).statusCode, 200);
    expectError(
      await authorize({ payload: { username: ADMIN_EMAIL, password: 'wrong-password' } }),
      401,
      'unauthorized',
    );
    expectError(
      await authorize({ payload: { username: 'nobody@test.local', password: ADMIN_PASSWORD } }),
      401,
      'unauthorized',
    );
  });

  it('accepts a ttl from 1 to 86400 seconds, and answers 400 outside the bounds', async () => {
    await tokenOf({ authorization: adminAuth, payload: { ttl: 1 } });
    await tokenOf({ authorization: adminAuth, payload: { ttl: 86_400 } });
    await tokenOf({ authorization: adminAuth, payload: {} });
    for (const ttl of [0, -1, 86_401, 1.5, '60', null]) {
      expectError(await authorize({ authorization: adminAuth, payload: { ttl } }), 400, 'invalid_schema');
    }
    // Keys Bosun does not use never fail a request whose credentials are valid.
    await tokenOf({ authorization: adminAuth, payload: { ttl: 60, role: 'admin' } });
  });

  it('the token carries the user’s role: a db_viewer token cannot list users', async () => {
    assert.equal(
      (await createUser({ email: 'vic@jwt.test', password: 'vic-password', role: 'db_viewer' })).statusCode,
      200,
    );
    const token = await tokenOf({ authorization: basic('vic@jwt.test', 'vic-password') });
    assert.equal((await withToken(token)).statusCode, 200);
    expectError(await withToken(token, '/v1/users'), 403, 'unauthorized_action');
  });

  it('garbage tokens → 401', async () => {
    for (const token of ['garbage', 'a.b.c', '', 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA']) {
      expectError(await withToken(token), 401, 'unauthorized');
    }
    const valid = await tokenOf({ authorization: adminAuth });
    const tampered = valid.slice(0, -2) + (valid.endsWith('AA') ? 'BB' : 'AA');
    expectError(await withToken(tampered), 401, 'unauthorized');
  });

  it('a token dies with its user', async () => {
    const created = await createUser({ email: 'gone@jwt.test', password: 'gone-password' });
    const token = await tokenOf({ authorization: basic('gone@jwt.test', 'gone-password') });
    assert.equal((await withToken(token)).statusCode, 200);
    const uid = created.json<{ uid: number }>().uid;
    const del = await t.node.app.inject({
      method: 'DELETE',
      url: `/v1/users/${uid}`,
      headers: { authorization: adminAuth },
    });
    assert.equal(del.statusCode, 200);
    expectError(await withToken(token), 401, 'unauthorized');
  });

  it('a password change revokes every token issued before it, even one issued the same second', async () => {
    const created = await createUser({ email: 'pat@jwt.test', password: 'pat-password-1', role: 'admin' });
    const uid = created.json<{ uid: number }>().uid;
    // Start just after a second boundary, so the token and the change share their wall-clock second:
    // that is the case a seconds-resolution comparison gets wrong. The test holds for any timing.
    while (Date.now() % 1000 > 100) await new Promise((resolve) => setTimeout(resolve, 5));
    const token = await tokenOf({ authorization: basic('pat@jwt.test', 'pat-password-1') });
    assert.equal((await withToken(token)).statusCode, 200);
    const put = await t.node.app.inject({
      method: 'PUT',
      url: `/v1/users/${uid}`,
      headers: { authorization: adminAuth },
      payload: { password: 'pat-password-2' },
    });
    assert.equal(put.statusCode, 200);
    expectError(await withToken(token), 401, 'unauthorized');
  });

  it('a token issued after the password change works', async () => {
    const token = await tokenOf({ authorization: basic('pat@jwt.test', 'pat-password-2') });
    assert.equal((await withToken(token)).statusCode, 200);
  });
});

describe('bad input', () => {
  let t: TestNode;
  const { call, get } = api(() => t);
  const postRaw = (
    contentType: string | undefined,
    payload: string,
    url = '/v1/cluster/actions/change_master',
  ) =>
    call({
      method: 'POST',
      url,
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      payload,
    });

  before(async () => {
    t = await startTestNode();
  });

  after(async () => {
    await t?.stop();
  });

  it('malformed JSON → 400 invalid_json', async () => {
    for (const body of [
      '{"node_uid":',
      '{node_uid: 1}',
      "{'node_uid': '1'}",
      '{"node_uid": "1"}}',
      'nul',
      '\u0000',
    ]) {
      expectError(await postRaw('application/json', body), 400, 'invalid_json');
    }
    expectError(await postRaw('application/json', '{"ttl":', '/v1/users/authorize'), 400, 'invalid_json');
    expectError(await postRaw('application/json', '{', '/v1/users'), 400, 'invalid_json');
  });

  it('a body over 1 MiB → 413 body_too_large', async () => {
    const big = JSON.stringify({ node_uid: '1', pad: 'x'.repeat(1024 * 1024) });
    expectError(await postRaw('application/json', big), 413, 'body_too_large');
  });

  it('a body of just under 1 MiB is read (and judged on its content)', async () => {
    const body = JSON.stringify({ node_uid: 'abc', pad: 'x'.repeat(1000 * 1000) });
    expectError(await postRaw('application/json', body), 400, 'invalid_schema');
  });

  it('a non-JSON Content-Type → 415 unsupported_media_type', async () => {
    expectError(await postRaw('text/plain', '{"node_uid":"1"}'), 415, 'unsupported_media_type');
    expectError(
      await postRaw('application/x-www-form-urlencoded', 'node_uid=1'),
      415,
      'unsupported_media_type',
    );
    expectError(await postRaw('application/xml', '<node_uid>1</node_uid>'), 415, 'unsupported_media_type');
  });

  it('JSON with a charset parameter is fine', async () => {
    const res = await postRaw('application/json; charset=utf-8', '{"node_uid":"1"}');
    assert.equal(res.statusCode, 200, res.body);
    await poll(
      async () => (await get('/v1/cluster/actions/change_master')).json<{ status: string }>().status,
      (s) => s === 'completed',
      'change_master to complete',
    );
  });

  it('an empty body with Content-Type: application/json is no body, not an error', async () => {
    const del = await call({
      method: 'DELETE',
      url: '/v1/cluster/actions/change_master',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(del.statusCode, 200, del.body);
    const none = await call({
      method: 'DELETE',
      url: '/v1/cluster/actions/change_master',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expectError(none, 404, 'action_not_found');
    // On a POST, the empty body reaches validation (a missing field), not the JSON parser.
    expectError(await postRaw('application/json', ''), 400, 'invalid_schema');
    const token = await postRaw('application/json', '   ', '/v1/users/authorize');
    assert.equal(token.statusCode, 200, token.body);
  });

  it('an unknown route → 404 not_found', async () => {
    for (const [method, url] of [
      ['GET', '/v1/nope'],
      ['GET', '/v2/cluster/actions'],
      ['GET', '/favicon.ico'],
      ['PUT', '/v1/cluster/actions/change_master'],
      ['PATCH', '/v1/cluster'],
      ['POST', '/v1/cluster/actions'],
      ['GET', '/v1/cluster/actions/change_master/extra'],
    ] as const) {
      expectError(await call({ method, url }), 404, 'not_found');
    }
    expectError(await t.node.app.inject({ method: 'GET', url: '/v1/nope' }), 404, 'not_found');
  });

  it('still answers after all the bad input', async () => {
    const cluster = await get('/v1/cluster');
    assert.equal(cluster.statusCode, 200);
    const res = await call({
      method: 'POST',
      url: '/v1/cluster/actions/change_master',
      payload: { node_uid: 1 },
    });
    assert.equal(res.statusCode, 200, res.body);
    await poll(
      async () => (await get('/v1/cluster/actions/change_master')).json<{ status: string }>().status,
      (s) => s === 'completed',
      'change_master to complete',
    );
  });
});
