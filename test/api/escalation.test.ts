/**
 * Issue 14, findings 2 and 3: no role grants more than it holds, and the cluster keeps an admin.
 * Each case drives a real node through its HTTP API, as the attacker did.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { covers } from '../../src/api/auth/grants.js';
import { roles, type Role } from '../../src/users/roles.js';
import { adminAuth, basic, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { expectError } from './support.js';

const PASSWORD = 'escalation-password';

describe('covers(): no role grants more than it holds', () => {
  it('admin covers every role; user_manager every role but admin; none covers only none', () => {
    for (const r of roles) assert.equal(covers('admin', r), true, r);
    for (const r of roles) assert.equal(covers('user_manager', r), r !== 'admin', r);
    for (const r of roles) assert.equal(covers('none', r), r === 'none', r);
  });
});

describe('a user_manager cannot become admin or act on admins (finding 2)', () => {
  let t: TestNode;
  let managerUid = 0;
  let adminUid = 0;
  let memberUid = 0;
  let seq = 0;
  const managerAuth = basic('manager@esc.test', PASSWORD);

  const req = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: object,
    auth = managerAuth,
  ) => t.node.app.inject({ method, url, headers: { authorization: auth }, ...(payload ? { payload } : {}) });

  const create = async (role: Role, email = `u${++seq}@esc.test`): Promise<number> => {
    const res = await req('POST', '/v1/users', { email, password: PASSWORD, role }, adminAuth);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ uid: number }>().uid;
  };

  before(async () => {
    t = await startTestNode();
    managerUid = await create('user_manager', 'manager@esc.test');
  });
  beforeEach(async () => {
    adminUid = await create('admin');
    memberUid = await create('db_member');
  });
  after(async () => {
    await t?.stop();
  });

  it('cannot create an admin', async () => {
    const res = await req('POST', '/v1/users', { email: 'evil@esc.test', password: PASSWORD, role: 'admin' });
    expectError(res, 403, 'unauthorized_action');
    const list = await req('GET', '/v1/users', undefined, adminAuth);
    assert.ok(!list.json<{ email: string }[]>().some((u) => u.email === 'evil@esc.test'));
  });

  it('can still create every role it covers', async () => {
    for (const role of roles.filter((r) => r !== 'admin')) {
      const res = await req('POST', '/v1/users', { email: `ok-${role}@esc.test`, password: PASSWORD, role });
      assert.equal(res.statusCode, 200, res.body);
    }
  });

  it('cannot raise its own role to admin', async () => {
    expectError(await req('PUT', `/v1/users/${managerUid}`, { role: 'admin' }), 403, 'unauthorized_action');
    const me = await req('GET', `/v1/users/${managerUid}`, undefined, adminAuth);
    assert.equal(me.json<{ role: string }>().role, 'user_manager');
  });

  it('cannot make another user admin', async () => {
    expectError(await req('PUT', `/v1/users/${memberUid}`, { role: 'admin' }), 403, 'unauthorized_action');
  });

  it("cannot reset an admin's password, so cannot log in as that admin", async () => {
    const res = await req('PUT', `/v1/users/${adminUid}`, { password: 'taken-over-1' });
    expectError(res, 403, 'unauthorized_action');
    const victim = (await req('GET', `/v1/users/${adminUid}`, undefined, adminAuth)).json<{
      email: string;
    }>();
    const asVictim = await req('GET', '/v1/cluster', undefined, basic(victim.email, 'taken-over-1'));
    expectError(asVictim, 401, 'unauthorized');
  });

  it("cannot change an admin's email, name or role", async () => {
    for (const body of [{ email: 'moved@esc.test' }, { name: 'x' }, { role: 'none' }]) {
      expectError(await req('PUT', `/v1/users/${adminUid}`, body), 403, 'unauthorized_action');
    }
  });

  it('cannot delete an admin, uid 1 included', async () => {
    expectError(await req('DELETE', `/v1/users/${adminUid}`), 403, 'unauthorized_action');
    expectError(await req('DELETE', '/v1/users/1'), 403, 'unauthorized_action');
    assert.equal((await req('GET', '/v1/users/1', undefined, adminAuth)).statusCode, 200);
  });

  it('can still manage users below it: password, role and delete', async () => {
    assert.equal(
      (await req('PUT', `/v1/users/${memberUid}`, { password: 'new-password-1' })).statusCode,
      200,
    );
    assert.equal((await req('PUT', `/v1/users/${memberUid}`, { role: 'user_manager' })).statusCode, 200);
    assert.equal((await req('DELETE', `/v1/users/${memberUid}`)).statusCode, 200);
  });

  it('an admin can do all of it', async () => {
    assert.equal((await req('PUT', `/v1/users/${memberUid}`, { role: 'admin' }, adminAuth)).statusCode, 200);
    assert.equal((await req('DELETE', `/v1/users/${memberUid}`, undefined, adminAuth)).statusCode, 200);
  });
});

describe('the cluster always keeps an admin (finding 3)', () => {
  let t: TestNode;

  before(async () => {
    t = await startTestNode();
  });
  after(async () => {
    await t?.stop();
  });

  const req = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, auth: string, payload?: object) =>
    t.node.app.inject({ method, url, headers: { authorization: auth }, ...(payload ? { payload } : {}) });

  it('the only admin cannot demote itself', async () => {
    for (const role of roles.filter((r) => r !== 'admin')) {
      expectError(await req('PUT', '/v1/users/1', adminAuth, { role }), 409, 'last_admin');
    }
    const me = await req('GET', '/v1/users/1', adminAuth);
    assert.equal(me.json<{ role: string }>().role, 'admin');
  });

  it('the only admin cannot be deleted, even by another admin that is then demoted', async () => {
    const res = await req('POST', '/v1/users', adminAuth, {
      email: 'a2@last.test',
      password: PASSWORD,
      role: 'admin',
    });
    const a2 = res.json<{ uid: number }>().uid;
    const a2Auth = basic('a2@last.test', PASSWORD);
    // Two admins: one may go.
    assert.equal((await req('PUT', `/v1/users/${a2}`, a2Auth, { role: 'db_viewer' })).statusCode, 200);
    // Now uid 1 is the last admin again.
    expectError(await req('PUT', '/v1/users/1', adminAuth, { role: 'db_viewer' }), 409, 'last_admin');
    assert.equal((await req('GET', '/v1/users/1', adminAuth)).json<{ role: string }>().role, 'admin');
  });

  it('two admins demoting themselves at the same moment: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round++) {
      const email = `race${round}@last.test`;
      const made = await req('POST', '/v1/users', adminAuth, { email, password: PASSWORD, role: 'admin' });
      const other = made.json<{ uid: number }>().uid;
      const [a, b] = await Promise.all([
        req('PUT', '/v1/users/1', adminAuth, { role: 'cluster_member' }),
        req('PUT', `/v1/users/${other}`, basic(email, PASSWORD), { role: 'cluster_member' }),
      ]);
      const codes = [a.statusCode, b.statusCode].sort();
      assert.deepEqual(codes, [200, 409], `round ${round}: ${a.body} / ${b.body}`);
      const users = (
        await req('GET', '/v1/users', a.statusCode === 200 ? basic(email, PASSWORD) : adminAuth)
      ).json<{ uid: number; role: string }[]>();
      assert.equal(users.filter((u) => u.role === 'admin').length, 1);
      // Restore: uid 1 admin, the other one gone.
      const survivor = a.statusCode === 200 ? basic(email, PASSWORD) : adminAuth;
      if (a.statusCode === 200) {
        assert.equal((await req('PUT', '/v1/users/1', survivor, { role: 'admin' })).statusCode, 200);
      }
      assert.equal((await req('DELETE', `/v1/users/${other}`, adminAuth)).statusCode, 200);
    }
  });

  it('deleting one of two admins while it demotes the other: exactly one succeeds', async () => {
    const made = await req('POST', '/v1/users', adminAuth, {
      email: 'del@last.test',
      password: PASSWORD,
      role: 'admin',
    });
    const other = made.json<{ uid: number }>().uid;
    const [a, b] = await Promise.all([
      req('DELETE', `/v1/users/${other}`, adminAuth),
      req('PUT', '/v1/users/1', basic('del@last.test', PASSWORD), { role: 'db_viewer' }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 409], `${a.body} / ${b.body}`);
    // Either uid 1 deleted the other (and stays admin) or was demoted (and the other stays).
    const survivor = a.statusCode === 200 ? adminAuth : basic('del@last.test', PASSWORD);
    const users = (await req('GET', '/v1/users', survivor)).json<{ role: string }[]>();
    assert.equal(users.filter((u) => u.role === 'admin').length, 1);
  });
});
