/**
 * Issue 10's additions to the action API, end to end on an in-process node through `inject()`:
 * the dry-run preflight, Idempotency-Key, the history query, retention, and DELETE past the point
 * of no return. A test action that steps past its point of no return on command makes that state
 * observable without timing. (Real node processes on both stores: test/actions/live-ops-*.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { InjectOptions } from 'fastify';

import { ActionCancelled, type ActionHandler } from '../../src/actions/handler.js';
import { clusterActionHandlers } from '../../src/actions/registry.js';
import { BosunError } from '../../src/errors/catalogue.js';
import { adminAuth, basic, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { expectError, poll } from './support.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Steps to its point of no return when the test says, then waits to be released. */
const gate = {
  pastPoint: deferred(),
  release: deferred(),
  reset() {
    this.release.resolve();
    this.pastPoint = deferred();
    this.release = deferred();
  },
};

const pointHandler: ActionHandler<{ hold: boolean }> = {
  name: 'point_test',
  validate(body) {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new BosunError('invalid_schema', 'point_test takes an object body.');
    return { hold: (body as Record<string, unknown>).hold === true };
  },
  async run(ctx) {
    if (ctx.params.hold) {
      await ctx.update({ progress: 40, cancellable: false, cancellable_reason: 'the test says so' });
      gate.pastPoint.resolve();
      await gate.release.promise;
    }
    if (ctx.signal.aborted) throw new ActionCancelled();
    return { kind: 'completed', outcome: {} };
  },
  async recover() {
    return { kind: 'completed', outcome: {} };
  },
};

interface Check {
  name: string;
  passed: boolean;
  message: string;
}
interface Preflight {
  action: string;
  dry_run: true;
  verdict: 'go' | 'no-go';
  checks: Check[];
}
interface Task {
  action_uid: string;
  name: string;
  status: string;
  creation_time: string;
}

describe('live actions: dry run, Idempotency-Key, history, point of no return', () => {
  let t: TestNode;
  const call = (o: InjectOptions) =>
    t.node.app.inject({ ...o, headers: { authorization: adminAuth, ...o.headers } });
  const post = (path: string, payload: object, headers: Record<string, string> = {}) =>
    call({ method: 'POST', url: path, payload, headers });
  const list = async (query = ''): Promise<{ actions: Task[]; next_cursor?: string }> => {
    const res = await call({ method: 'GET', url: `/v1/actions${query}` });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };
  const finish = (uid: string) =>
    poll(
      async () => (await call({ method: 'GET', url: `/v1/actions/${uid}` })).json<Task>().status,
      (s) => ['completed', 'failed', 'cancelled'].includes(s),
      `run ${uid} to end`,
    );
  const start = async (name: string, payload: object, headers: Record<string, string> = {}) => {
    const res = await post(`/v1/cluster/actions/${name}`, payload, headers);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ action_uid: string; status: string }>();
  };

  before(async () => {
    t = await startTestNode({
      registry: clusterActionHandlers().register(pointHandler),
      idempotencyTtlMs: 4000,
    });
  });
  after(async () => {
    gate.release.resolve();
    await t?.stop();
  });

  // ---- dry run ----

  it('dry_run=true answers go with every check, in one shape, and writes nothing', async () => {
    const before = await list();
    const res = await post('/v1/cluster/actions/change_master?dry_run=true', { node_uid: 1 });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Preflight>();
    assert.deepEqual(Object.keys(body).sort(), ['action', 'checks', 'dry_run', 'verdict']);
    assert.equal(body.verdict, 'go', res.body);
    assert.deepEqual(
      body.checks.map((c) => c.name),
      ['target_active', 'target_lease_fresh', 'store_quorum', 'no_run_in_flight', 'requester_permission'],
    );
    for (const c of body.checks) {
      assert.deepEqual(Object.keys(c).sort(), ['message', 'name', 'passed']);
      assert.ok(c.message.length > 0);
    }
    assert.match(body.checks[0]!.message, /already the master/);
    assert.deepEqual(await list(), before, 'no run was created');
    const latest = await call({ method: 'GET', url: '/v1/cluster/actions/change_master' });
    assert.equal(latest.statusCode, 404, 'no run status appeared');
  });

  it('dry_run answers no-go with 200 and the same shape: unknown target, run in flight', async () => {
    const res = await post('/v1/cluster/actions/change_master?dry_run=1', { node_uid: 7 });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Preflight>();
    assert.equal(body.verdict, 'no-go');
    const byName = new Map(body.checks.map((c) => [c.name, c]));
    assert.equal(byName.get('target_active')?.passed, false);
    assert.match(byName.get('target_active')!.message, /Node 7 does not exist/);
    assert.equal(byName.get('target_lease_fresh')?.passed, false);
    assert.equal(byName.get('store_quorum')?.passed, true);

    const held = await start('point_test', { hold: true });
    await gate.pastPoint.promise;
    const busy = (await post('/v1/cluster/actions/point_test?dry_run=true', {})).json<Preflight>();
    assert.equal(busy.verdict, 'no-go');
    const inFlight = busy.checks.find((c) => c.name === 'no_run_in_flight')!;
    assert.equal(inFlight.passed, false);
    assert.ok(inFlight.message.includes(held.action_uid), inFlight.message);
    gate.reset();
    await finish(held.action_uid);
  });

  it('dry_run: a malformed body is a 400 as for the real POST; a bad dry_run value is a 400', async () => {
    expectError(
      await post('/v1/cluster/actions/change_master?dry_run=true', { node_uid: 'two' }),
      400,
      'invalid_schema',
    );
    expectError(
      await post('/v1/cluster/actions/change_master?dry_run=yes', { node_uid: 1 }),
      400,
      'invalid_schema',
    );
    expectError(await post('/v1/cluster/actions/no_such?dry_run=true', {}), 400, 'unsupported_action');
  });

  it('dry_run needs only the view permission, and reports whether the requester may start the action', async () => {
    const email = 'viewer@live-ops.test';
    const made = await post('/v1/users', { email, password: 'viewer-password-1', role: 'cluster_viewer' });
    assert.equal(made.statusCode, 200, made.body);
    const viewer = basic(email, 'viewer-password-1');
    const dry = await t.node.app.inject({
      method: 'POST',
      url: '/v1/cluster/actions/change_master?dry_run=true',
      payload: { node_uid: 1 },
      headers: { authorization: viewer },
    });
    assert.equal(dry.statusCode, 200, dry.body);
    const body = dry.json<Preflight>();
    assert.equal(body.verdict, 'no-go');
    const perm = body.checks.find((c) => c.name === 'requester_permission')!;
    assert.equal(perm.passed, false);
    assert.match(perm.message, /lacks the start_cluster_action permission/);
    // The real POST stays forbidden.
    const real = await t.node.app.inject({
      method: 'POST',
      url: '/v1/cluster/actions/change_master?dry_run=false',
      payload: { node_uid: 1 },
      headers: { authorization: viewer },
    });
    expectError(real, 403, 'unauthorized_action');
  });

  // ---- Idempotency-Key ----

  it('the same key and body return the original run; another body is a 422; keys expire', async () => {
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await post('/v1/cluster/actions/point_test', { hold: false }, headers);
    assert.equal(first.statusCode, 200, first.body);
    const uid = first.json<Task>().action_uid;
    assert.equal(first.headers['idempotent-replayed'], undefined);
    await finish(uid);
    // Same body, keys in another order: the same request.
    const again = await post('/v1/cluster/actions/point_test', { hold: false }, headers);
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json<Task>().action_uid, uid);
    assert.equal(again.json<Task>().status, 'completed', 'the run as it stands now');
    assert.equal(again.headers['idempotent-replayed'], 'true');

    const other = await post('/v1/cluster/actions/point_test', { hold: true }, headers);
    expectError(other, 422, 'idempotency_key_reused');
    assert.equal(other.json<{ action_uid: string }>().action_uid, uid);

    // Another action under the same key is another request too.
    expectError(
      await post('/v1/cluster/actions/change_master', { node_uid: 1 }, headers),
      422,
      'idempotency_key_reused',
    );

    const runs = (await list()).actions.length;
    await new Promise((r) => setTimeout(r, 4100)); // past the 4 s TTL this node was given
    const fresh = await post('/v1/cluster/actions/point_test', { hold: false }, headers);
    assert.equal(fresh.statusCode, 200, fresh.body);
    assert.notEqual(fresh.json<Task>().action_uid, uid, 'an expired key starts a new run');
    await finish(fresh.json<Task>().action_uid);
    assert.equal((await list()).actions.length, runs + 1);
  });

  it('keys are per user', async () => {
    const headers = { 'idempotency-key': 'shared-name' };
    const mine = await start('point_test', { hold: false }, headers);
    await finish(mine.action_uid);
    const email = 'admin2@live-ops.test';
    assert.equal(
      (await post('/v1/users', { email, password: 'admin2-password-1', role: 'admin' })).statusCode,
      200,
    );
    const theirs = await t.node.app.inject({
      method: 'POST',
      url: '/v1/cluster/actions/point_test',
      payload: { hold: false },
      headers: { authorization: basic(email, 'admin2-password-1'), ...headers },
    });
    assert.equal(theirs.statusCode, 200, theirs.body);
    assert.notEqual(theirs.json<Task>().action_uid, mine.action_uid);
    await finish(theirs.json<Task>().action_uid);
  });

  it('a bad key is a 400 invalid_idempotency_key; a 409 leaves the key free', async () => {
    for (const key of ['', 'x'.repeat(256), ' lead', 'tab\there', 'é']) {
      const res = await post('/v1/cluster/actions/point_test', { hold: false }, { 'idempotency-key': key });
      expectError(res, 400, 'invalid_idempotency_key');
    }
    const held = await start('point_test', { hold: true });
    await gate.pastPoint.promise;
    const blocked = await post(
      '/v1/cluster/actions/point_test',
      { hold: false },
      { 'idempotency-key': 'after-409' },
    );
    expectError(blocked, 409, 'action_in_progress');
    gate.reset();
    await finish(held.action_uid);
    const retried = await post(
      '/v1/cluster/actions/point_test',
      { hold: false },
      { 'idempotency-key': 'after-409' },
    );
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal(retried.headers['idempotent-replayed'], undefined);
    await finish(retried.json<Task>().action_uid);
  });

  // ---- 409 bodies and the point of no return ----

  it('a 409 names the blocking run; a DELETE past the point of no return is a 409 with the reason', async () => {
    const held = await start('point_test', { hold: true });
    await gate.pastPoint.promise;
    const conflict = await post('/v1/cluster/actions/point_test', { hold: true });
    expectError(conflict, 409, 'action_in_progress');
    const c = conflict.json<Record<string, unknown>>();
    assert.equal(c.action_uid, held.action_uid);
    assert.equal(c.status, 'running');
    assert.equal(c.progress, 40);

    const state = (await call({ method: 'GET', url: '/v1/cluster/actions/point_test' })).json<
      Record<string, unknown>
    >();
    assert.equal(state.cancellable, false);
    assert.equal(state.cancellable_reason, 'the test says so');

    const del = await call({ method: 'DELETE', url: '/v1/cluster/actions/point_test' });
    expectError(del, 409, 'action_not_cancellable');
    const d = del.json<Record<string, unknown>>();
    assert.equal(d.action_uid, held.action_uid);
    assert.equal(d.cancellable_reason, 'the test says so');
    assert.match(String(d.description), /the test says so/);
    const still = (await call({ method: 'GET', url: '/v1/cluster/actions/point_test' })).json<Task>();
    assert.equal(still.status, 'running', 'the refused DELETE changed nothing');
    gate.reset();
    assert.equal(await finish(held.action_uid), 'completed');
  });

  // ---- history ----

  it('no parameter: today’s answer; filters, order and cursor paging; bad values are 400s', async () => {
    for (let i = 0; i < 5; i++) await finish((await start('point_test', { hold: false })).action_uid);
    const all = await list();
    assert.deepEqual(Object.keys(all).sort(), ['actions', 'state-machines']);
    const mine = all.actions.filter((a) => a.name === 'point_test').map((a) => a.action_uid);

    const byName = await list('?name=point_test');
    assert.deepEqual(
      byName.actions.map((a) => a.action_uid),
      mine,
    );
    assert.equal(byName.next_cursor, undefined);
    const desc = await list('?name=point_test&order=desc');
    assert.deepEqual(
      desc.actions.map((a) => a.action_uid),
      [...mine].reverse(),
    );
    const done = await list('?status=completed,failed&name=point_test');
    assert.ok(done.actions.every((a) => a.status === 'completed' || a.status === 'failed'));
    assert.equal((await list('?since=2000000000')).actions.length, 0);
    assert.equal((await list('?until=2001-01-01T00:00:00Z')).actions.length, 0);
    assert.equal((await list('?since=2001-01-01')).actions.length, all.actions.length);

    // Newest first, two at a time, while runs are added: no duplicates, no gaps.
    const seen: string[] = [];
    let cursor: string | undefined;
    let added = 0;
    do {
      const page = await list(`?name=point_test&order=desc&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.actions.length <= 2);
      seen.push(...page.actions.map((a) => a.action_uid));
      cursor = page.next_cursor;
      if (added < 2) {
        added++;
        await finish((await start('point_test', { hold: false })).action_uid);
      }
    } while (cursor);
    assert.deepEqual(seen, [...mine].reverse(), 'every run present at the start, once, newest first');

    // Oldest first, paging to the end, sees the runs added meanwhile too.
    const asc: string[] = [];
    cursor = undefined;
    do {
      const page = await list(`?name=point_test&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      asc.push(...page.actions.map((a) => a.action_uid));
      cursor = page.next_cursor;
    } while (cursor);
    assert.equal(new Set(asc).size, asc.length);
    assert.deepEqual(asc.slice(0, mine.length), mine);
    assert.equal(asc.length, mine.length + 2);

    for (const q of [
      'limit=-1',
      'limit=0',
      'limit=1001',
      'limit=x',
      'since=garbage',
      'until=2026-13',
      'order=newest',
      'status=done',
      'name=Bad-Name',
      'since=20&until=10',
      'status=queued&status=failed',
    ]) {
      expectError(await call({ method: 'GET', url: `/v1/actions?${q}` }), 400, 'invalid_schema');
    }
    const page = await list('?name=point_test&limit=1');
    for (const bad of [
      'garbage!',
      'x'.repeat(600),
      Buffer.from('{"v":2}').toString('base64url'),
      'eyJ2IjoxfQ',
    ]) {
      expectError(await call({ method: 'GET', url: `/v1/actions?cursor=${bad}` }), 400, 'invalid_cursor');
    }
    // A cursor used with other filters or another order.
    const wrong = await call({
      method: 'GET',
      url: `/v1/actions?name=point_test&order=desc&cursor=${page.next_cursor!}`,
    });
    expectError(wrong, 400, 'invalid_cursor');
  });
});
