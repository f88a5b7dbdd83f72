/**
 * GET /v1/logs on an in-process node: RE's event objects, its stime/etime/order/limit/offset
 * parameters, its permission, the entries each kind of request leaves (with the user and the request
 * id, and never a secret), and the retention bound.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { LightMyRequestResponse } from 'fastify';

import { ADMIN_EMAIL, adminAuth, basic, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { expectError, poll } from './support.js';

interface Entry {
  time: string;
  type: string;
  severity: string;
  [field: string]: unknown;
}

describe('GET /v1/logs', () => {
  let t: TestNode;
  before(async () => {
    // A long lease: on a loaded machine a 1 s lease can lapse between renewals, and the API then answers 503.
    t = await startTestNode({ leaseTtlMs: 5000 });
  });
  after(async () => {
    await t?.stop();
  });

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
    auth = adminAuth,
  ) =>
    t.node.app.inject({
      method,
      url,
      headers: { authorization: auth },
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  const logs = async (query = ''): Promise<Entry[]> => {
    const res: LightMyRequestResponse = await call('GET', `/v1/logs${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<Entry[]>();
  };
  const waitFor = (what: string, done: (entries: Entry[]) => boolean) => poll(() => logs(), done, what);

  it('starts with the node joining and becoming master (epoch, cause)', async () => {
    const entries = await waitFor('join and master entries', (es) =>
      ['cluster_node_joined', 'master_changed'].every((type) => es.some((e) => e.type === type)),
    );
    for (const e of entries) {
      assert.match(e.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.ok(['INFO', 'WARNING', 'ERROR'].includes(e.severity));
    }
    const master = entries.find((e) => e.type === 'master_changed')!;
    assert.equal(master.node_uid, 1);
    assert.equal(master.epoch, 1);
    assert.equal(master.cause, 'initial');
    assert.equal(entries.find((e) => e.type === 'cluster_node_joined')!.node_uid, 1);
  });

  it('records an action requested, started and finished, with the user and the request id', async () => {
    const res = await t.node.app.inject({
      method: 'POST',
      url: '/v1/cluster/actions/change_master',
      headers: { authorization: adminAuth, 'x-request-id': 'audit-trace-7' },
      payload: { node_uid: 1 },
    });
    assert.equal(res.statusCode, 200, res.body);
    const uid = res.json<{ action_uid: string }>().action_uid;
    const entries = await waitFor('the run entries', (es) =>
      ['action_requested', 'action_started', 'action_completed'].every((type) =>
        es.some((e) => e.type === type && e.action_uid === uid),
      ),
    );
    const about = entries.filter((e) => e.action_uid === uid);
    assert.deepEqual(
      about.map((e) => e.type),
      ['action_requested', 'action_started', 'action_completed'],
      'each once, in order',
    );
    for (const e of about) {
      assert.equal(e.action, 'change_master');
      assert.equal(e.user, ADMIN_EMAIL);
      assert.equal(e.request_id, 'audit-trace-7');
    }
  });

  it('records users created, changed and deleted, without their passwords', async () => {
    const created = await call('POST', '/v1/users', {
      email: 'audited@test.local',
      password: 'Secret-Password-1',
      role: 'db_viewer',
    });
    assert.equal(created.statusCode, 200, created.body);
    const uid = created.json<{ uid: number }>().uid;
    assert.equal(
      (await call('PUT', `/v1/users/${uid}`, { password: 'Other-Secret-2', role: 'db_member' })).statusCode,
      200,
    );
    assert.equal((await call('DELETE', `/v1/users/${uid}`)).statusCode, 200);
    const entries = await waitFor('the user entries', (es) => es.some((e) => e.type === 'user_deleted'));
    const created1 = entries.find((e) => e.type === 'user_created')!;
    assert.equal(created1.email, 'audited@test.local');
    assert.equal(created1.uid, uid);
    assert.equal(created1.user, ADMIN_EMAIL);
    const updated = entries.find((e) => e.type === 'user_updated')!;
    assert.deepEqual(updated.changed, ['password', 'role']);
    assert.equal(updated.role, 'db_member');
    const deleted = entries.find((e) => e.type === 'user_deleted')!;
    assert.equal(deleted.uid, uid);
    assert.equal(deleted.email, 'audited@test.local');
    const text = JSON.stringify(entries);
    assert.doesNotMatch(text, /Secret-Password-1|Other-Secret-2|password_hash|scrypt/);
  });

  it('records failed logins with the user tried and the scheme, never the password', async () => {
    await call('GET', '/v1/nodes', undefined, basic('intruder@test.local', 'Guess-Password-9'));
    const entries = await waitFor('a failed login', (es) => es.some((e) => e.type === 'login_failed'));
    const failed = entries.find((e) => e.type === 'login_failed')!;
    assert.equal(failed.severity, 'WARNING');
    assert.equal(failed.user, 'intruder@test.local');
    assert.equal(failed.scheme, 'basic');
    assert.equal(typeof failed.request_id, 'string');
    assert.doesNotMatch(JSON.stringify(entries), /Guess-Password-9/);
  });

  it('honours order, limit, offset, stime and etime', async () => {
    const all = await logs();
    assert.ok(all.length >= 6);
    const times = all.map((e) => Date.parse(e.time));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'ascending by default',
    );
    assert.deepEqual(await logs('?order=desc'), [...all].reverse());
    assert.deepEqual(await logs('?limit=2'), all.slice(0, 2));
    assert.deepEqual(await logs('?limit=2&offset=1'), all.slice(1, 3));
    assert.deepEqual(await logs('?order=desc&limit=1'), [all.at(-1)]);
    const middle = all[Math.floor(all.length / 2)]!.time;
    const since = await logs(`?stime=${encodeURIComponent(middle)}`);
    assert.ok(since.length > 0 && since.every((e) => e.time >= middle));
    const until = await logs(`?etime=${encodeURIComponent(middle)}`);
    assert.ok(until.length > 0 && until.every((e) => e.time <= middle));
    assert.deepEqual(await logs('?stime=2999-01-01T00:00:00Z'), []);
    assert.equal((await logs('?etime=2000-01-01')).length, 0);
  });

  it('refuses bad parameters with 400 invalid_schema', async () => {
    for (const q of [
      '?stime=yesterday',
      '?etime=2026-13-45T99:00:00Z',
      '?order=up',
      '?limit=-1',
      '?limit=ten',
      '?offset=1.5',
      '?bogus=1',
    ]) {
      expectError(await call('GET', `/v1/logs${q}`), 400, 'invalid_schema');
    }
  });

  it("needs RE's view_logged_events: db_member may read, db_viewer may not", async () => {
    for (const [email, role] of [
      ['member@test.local', 'db_member'],
      ['viewer@test.local', 'db_viewer'],
    ] as const) {
      const res = await call('POST', '/v1/users', { email, password: 'Password-123', role });
      assert.equal(res.statusCode, 200, res.body);
    }
    expectError(await call('GET', '/v1/logs', undefined, ''), 401, 'unauthorized');
    expectError(await call('GET', '/v1/logs', undefined, basic('viewer@test.local', 'Password-123')), 403);
    assert.equal(
      (await call('GET', '/v1/logs', undefined, basic('member@test.local', 'Password-123'))).statusCode,
      200,
    );
  });

  it('logs a flood of failed logins ten a second per node, and counts the rest', async () => {
    // Bad tokens: cheap to refuse, so the flood is fast (a bad password costs a scrypt).
    const started = Date.now();
    for (let i = 0; i < 30; i++) {
      await t.node.app.inject({
        method: 'GET',
        url: '/v1/nodes',
        headers: { authorization: `JWT bad.${i}.token` },
      });
    }
    const elapsed = Date.now() - started;
    const windows = Math.ceil(elapsed / 1000) + 1;
    const single = (es: Entry[]) => es.filter((e) => e.type === 'login_failed' && e.scheme === 'jwt');
    const total = (es: Entry[]) =>
      single(es).length +
      es.filter((e) => e.type === 'login_failed_suppressed').reduce((n, e) => n + Number(e.count), 0);
    const entries = await poll(
      () => logs(),
      (es) => total(es) === 30,
      'every failed login to be accounted for',
    );
    assert.ok(
      single(entries).length <= 10 * windows,
      `${single(entries).length} single entries in ${windows} windows`,
    );
    if (elapsed < 1000) assert.ok(entries.some((e) => e.type === 'login_failed_suppressed'));
  });
});

describe('the event log retention', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode({ eventRetention: 20, leaseTtlMs: 5000 });
  });
  after(async () => {
    await t?.stop();
  });

  const read = async () =>
    (await t.node.app.inject({ method: 'GET', url: '/v1/logs', headers: { authorization: adminAuth } })).json<
      Entry[]
    >();

  it('keeps the newest entries, near the retention count', async () => {
    const uids: string[] = [];
    for (let i = 0; i < 15; i++) {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/cluster/actions/change_master',
        headers: { authorization: adminAuth },
        payload: { node_uid: 1 },
      });
      assert.equal(res.statusCode, 200, res.body);
      const uid = res.json<{ action_uid: string }>().action_uid;
      uids.push(uid);
      await poll(
        read,
        (es) => es.some((e) => e.type === 'action_completed' && e.action_uid === uid),
        'the run',
      );
    }
    const entries = await poll(read, (es) => es.length <= 22, 'the log to be pruned to its retention');
    assert.ok(entries.length >= 18, `kept ${entries.length}`);
    assert.ok(
      entries.some((e) => e.action_uid === uids.at(-1)),
      'the newest stay',
    );
    assert.ok(!entries.some((e) => e.action_uid === uids[0]), 'the oldest went first');
  });
});
