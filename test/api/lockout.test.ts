/**
 * Issue 14, findings 6 and 10: Redis Enterprise's login lockout, cluster-wide and unlocked by a new
 * password; the per-client failed-login limit; role `none` gets no token. Two real nodes share one
 * SQLite store, so a lock taken on one is honoured by the other.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { adminAuth, basic, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { expectError, poll } from './support.js';

const PASSWORD = 'lockout-password';

/** Repeats `send` until `done` holds (the other node's view catches up within milliseconds). */
async function until<T extends { statusCode: number; body: string }>(
  send: () => Promise<T>,
  done: (res: T) => boolean,
  what: string,
): Promise<T> {
  let res = await send();
  for (let i = 0; i < 500 && !done(res); i++) {
    await new Promise((r) => setTimeout(r, 10));
    res = await send();
  }
  assert.ok(done(res), `timed out waiting for ${what}: ${res.statusCode} ${res.body}`);
  return res;
}

describe('login lockout, cluster-wide (finding 6)', () => {
  let dataDir: string;
  let n1: TestNode;
  let n2: TestNode;
  let seq = 0;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bosun-lockout-'));
    n1 = await startTestNode({ dataDir, uid: 1 });
    n2 = await startTestNode({ dataDir, uid: 2 });
  });
  after(async () => {
    await n2?.stop();
    await n1?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = (t: TestNode, auth: string) =>
    t.node.app.inject({ method: 'GET', url: '/v1/cluster', headers: { authorization: auth } });

  const newUser = async (role = 'db_viewer'): Promise<{ uid: number; email: string }> => {
    const email = `lock${++seq}@lockout.test`;
    const res = await n1.node.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { authorization: adminAuth },
      payload: { email, password: PASSWORD, role },
    });
    assert.equal(res.statusCode, 200, res.body);
    const uid = res.json<{ uid: number }>().uid;
    // Both nodes know the user before the test starts (asked as admin: no failed login counted).
    const seen = () =>
      n2.node.app.inject({ method: 'GET', url: `/v1/users/${uid}`, headers: { authorization: adminAuth } });
    await poll(
      async () => (await seen()).statusCode,
      (s) => s === 200,
      'n2 to see the user',
    );
    return { uid, email };
  };

  it('5 failures, spread over two nodes, lock the account on both; the right password is refused too', async () => {
    const { email } = await newUser();
    let guess = 0;
    for (const t of [n1, n1, n1, n2])
      expectError(await get(t, basic(email, `guess-${++guess}`)), 401, 'unauthorized');
    // The fifth failure is counted; it locks.
    expectError(await get(n2, basic(email, `guess-${++guess}`)), 401, 'unauthorized');
    for (const t of [n1, n2]) {
      const res = await until(
        () => get(t, basic(email, PASSWORD)),
        (r) => r.statusCode !== 200,
        'the lock',
      );
      expectError(res, 401, 'account_locked');
      const retryAfter = Number(res.headers['retry-after']);
      assert.ok(retryAfter > 1700 && retryAfter <= 1800, `Retry-After ${retryAfter}`);
    }
    const authorize = await n1.node.app.inject({
      method: 'POST',
      url: '/v1/users/authorize',
      payload: { username: email, password: PASSWORD },
    });
    expectError(authorize, 401, 'account_locked');
  });

  it('a lockout is counted in /metrics and written once to the event log (GET /v1/logs)', async () => {
    const metric = async (t: TestNode): Promise<number> => {
      const res = await t.node.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      const line = res.body.split('\n').find((l) => l.startsWith('bosun_auth_lockouts_total '));
      return Number(line?.split(' ')[1]);
    };
    const before = (await metric(n1)) + (await metric(n2));
    const { email } = await newUser();
    // On n2: the per-client limit (per node) must not trip for the tests after this one, which use n1.
    for (let i = 0; i < 5; i++) expectError(await get(n2, basic(email, `metric-${i}`)), 401, 'unauthorized');
    assert.equal((await metric(n1)) + (await metric(n2)), before + 1);
    const entries = await until(
      () => n2.node.app.inject({ method: 'GET', url: '/v1/logs', headers: { authorization: adminAuth } }),
      (r) =>
        r.statusCode === 200 &&
        r
          .json<{ type: string; user?: string }[]>()
          .some((e) => e.type === 'user_locked_out' && e.user === email),
      'the lockout in the event log',
    );
    const locked = entries
      .json<{ type: string; user?: string }[]>()
      .filter((e) => e.type === 'user_locked_out');
    assert.equal(locked.filter((e) => e.user === email).length, 1);
  });

  it('a success before the threshold resets the count', async () => {
    const { email } = await newUser();
    for (let i = 0; i < 4; i++) expectError(await get(n1, basic(email, `wrong-${i}`)), 401, 'unauthorized');
    assert.equal((await get(n1, basic(email, PASSWORD))).statusCode, 200);
    for (let i = 0; i < 4; i++) expectError(await get(n1, basic(email, `wrong-${i}`)), 401, 'unauthorized');
    assert.equal((await get(n1, basic(email, PASSWORD))).statusCode, 200);
  });

  it('an admin unlocks by setting a new password (RE: PUT /v1/users/<uid> {"password"})', async () => {
    const { uid, email } = await newUser();
    for (let i = 0; i < 5; i++) await get(n1, basic(email, `wrong-${i}`));
    expectError(await get(n1, basic(email, PASSWORD)), 401, 'account_locked');
    const put = await n2.node.app.inject({
      method: 'PUT',
      url: `/v1/users/${uid}`,
      headers: { authorization: adminAuth },
      payload: { password: 'a-new-password' },
    });
    assert.equal(put.statusCode, 200, put.body);
    for (const t of [n1, n2]) {
      await until(
        () => get(t, basic(email, 'a-new-password')),
        (r) => r.statusCode === 200,
        'the unlock',
      );
    }
  });

  it('a locked admin can be unlocked by another admin, not by a user manager', async () => {
    const admin2 = await newUser('admin');
    const manager = await newUser('user_manager');
    for (let i = 0; i < 5; i++) await get(n1, basic(admin2.email, `wrong-${i}`));
    expectError(await get(n1, basic(admin2.email, PASSWORD)), 401, 'account_locked');
    const byManager = await n1.node.app.inject({
      method: 'PUT',
      url: `/v1/users/${admin2.uid}`,
      headers: { authorization: basic(manager.email, PASSWORD) },
      payload: { password: 'manager-chose-this' },
    });
    expectError(byManager, 403, 'unauthorized_action');
    expectError(await get(n1, basic(admin2.email, PASSWORD)), 401, 'account_locked');
  });

  it('a token issued before the lock keeps working until it expires; a token is never locked out', async () => {
    const { email } = await newUser();
    const auth = await n1.node.app.inject({
      method: 'POST',
      url: '/v1/users/authorize',
      payload: { username: email, password: PASSWORD },
    });
    const token = auth.json<{ access_token: string }>().access_token;
    for (let i = 0; i < 5; i++) await get(n1, basic(email, `wrong-${i}`));
    expectError(await get(n1, basic(email, PASSWORD)), 401, 'account_locked');
    assert.equal((await get(n2, `JWT ${token}`)).statusCode, 200);
  });

  it('the same wrong password again, even sent in parallel, counts once (a retry is not a guess)', async () => {
    const { email } = await newUser();
    await Promise.all(Array.from({ length: 6 }, () => get(n1, basic(email, 'mistyped-password'))));
    for (let i = 0; i < 6; i++) {
      expectError(await get(n1, basic(email, 'mistyped-password')), 401, 'unauthorized');
    }
    assert.equal((await get(n1, basic(email, PASSWORD))).statusCode, 200);
    // Different wrong passwords are guesses: each counts.
    for (let i = 0; i < 5; i++) await get(n1, basic(email, `guess-${i}`));
    expectError(await get(n1, basic(email, PASSWORD)), 401, 'account_locked');
  });

  it('unknown emails are never "locked" (no record, no hint that they exist)', async () => {
    for (let i = 0; i < 7; i++) {
      expectError(await get(n2, basic('ghost@lockout.test', `wrong-${i}`)), 401, 'unauthorized');
    }
  });
});

describe('per-client failed-login limit (finding 6)', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode({ auth: { clientLimit: { limit: 3, windowMs: 60_000 } } });
  });
  after(async () => {
    await t?.stop();
  });
  const get = (auth: string) =>
    t.node.app.inject({ method: 'GET', url: '/v1/cluster', headers: { authorization: auth } });

  it('after the limit, password logins from that client get 429 with Retry-After; tokens still work', async () => {
    const authorize = await t.node.app.inject({
      method: 'POST',
      url: '/v1/users/authorize',
      headers: { authorization: adminAuth },
    });
    const token = authorize.json<{ access_token: string }>().access_token;
    for (let i = 0; i < 3; i++)
      expectError(await get(basic(`nobody${i}@x.test`, 'wrong')), 401, 'unauthorized');
    const limited = await get(basic('nobody@x.test', 'wrong'));
    expectError(limited, 429, 'too_many_requests');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    // Even the right password: the client is refused before any check.
    expectError(await get(adminAuth), 429, 'too_many_requests');
    const viaBody = await t.node.app.inject({
      method: 'POST',
      url: '/v1/users/authorize',
      payload: { username: 'x@x.test', password: 'y' },
    });
    expectError(viaBody, 429, 'too_many_requests');
    assert.equal((await get(`JWT ${token}`)).statusCode, 200);
    // Another client address is not affected.
    const other = await t.node.app.inject({
      method: 'GET',
      url: '/v1/cluster',
      remoteAddress: '10.0.0.9',
      headers: { authorization: adminAuth },
    });
    assert.equal(other.statusCode, 200, other.body);
  });
});

describe('role none obtains no token (finding 10)', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(async () => {
    await t?.stop();
  });

  it('POST /v1/users/authorize as none → 403; every other role gets a token', async () => {
    for (const role of ['none', 'db_viewer', 'cluster_member', 'user_manager', 'admin']) {
      const email = `${role}@token.test`;
      const made = await t.node.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: { authorization: adminAuth },
        payload: { email, password: PASSWORD, role },
      });
      assert.equal(made.statusCode, 200, made.body);
      for (const request of [
        { headers: { authorization: basic(email, PASSWORD) } },
        { payload: { username: email, password: PASSWORD } },
      ]) {
        const res = await t.node.app.inject({ method: 'POST', url: '/v1/users/authorize', ...request });
        if (role === 'none') expectError(res, 403, 'unauthorized_action');
        else assert.equal(res.statusCode, 200, res.body);
      }
    }
  });
});
