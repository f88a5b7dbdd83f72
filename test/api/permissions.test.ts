/**
 * Roles and permissions (docs/re-contract.md, "Authentication"): the role × permission table cell by cell,
 * then the same rules end to end through a real node, one user per role, plus the 401 cases (missing, wrong
 * and malformed credentials). Every error answer must be exactly `{error_code, description}`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SignJWT, UnsecuredJWT } from 'jose';

import { permissionsOf, permissionTable, roleHas, type Permission } from '../../src/api/auth/permissions.js';
import { roles, type Role } from '../../src/users/roles.js';
import { roles as clientRoles } from '../../src/client/types.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  adminAuth,
  basic,
  startTestNode,
  type TestNode,
} from '../helpers/in-process-node.js';
import { expectError, poll } from './support.js';

// ---- the expected table ----

const all7: readonly Role[] = [
  'none',
  'db_viewer',
  'db_member',
  'cluster_viewer',
  'cluster_member',
  'user_manager',
  'admin',
];
const viewers = all7.filter((r) => r !== 'none');

/** docs/re-contract.md, "Roles and permissions", row by row (the latest docs, with `user_manager`). */
const section34: Readonly<Record<string, readonly Role[]>> = {
  view_status_of_cluster_action: viewers,
  start_cluster_action: ['admin'],
  cancel_cluster_action: ['admin'],
  view_status_of_node_action: viewers,
  view_status_of_all_node_actions: viewers,
  start_node_action: ['admin'],
  cancel_node_action: ['admin'],
  view_cluster_info: viewers,
  view_cluster_stats: viewers,
  view_all_nodes_info: viewers,
  view_node_info: viewers,
  update_cluster: ['admin'],
  update_node: ['admin'],
  view_logged_events: ['db_member', 'cluster_viewer', 'cluster_member', 'user_manager', 'admin'],
  view_all_metrics: ['cluster_viewer', 'cluster_member', 'user_manager', 'admin'],
  view_all_users_info: ['user_manager', 'admin'],
  view_user_info: ['user_manager', 'admin'],
};

/**
 * Permissions Bosun uses that §3.4 does not list: managing users. Redis's permissions page
 * (D-PERM) gives them to the same roles as viewing users.
 */
const userAdministration: Readonly<Record<string, readonly Role[]>> = {
  create_new_user: ['user_manager', 'admin'],
  update_user: ['user_manager', 'admin'],
  delete_user: ['user_manager', 'admin'],
};

/**
 * Read permissions of the endpoints real RE clients call before they reach actions (issue 8): RE's
 * permissions page grants each to every role but `none` (view_role_info: the roles request docs).
 */
const clientReads: Readonly<Record<string, readonly Role[]>> = {
  view_all_nodes_stats: viewers,
  view_node_stats: viewers,
  view_all_bdbs_info: viewers,
  view_all_shard_stats: viewers,
  view_all_roles_info: viewers,
  view_role_info: viewers,
};

const expected: Readonly<Record<string, readonly Role[]>> = {
  ...section34,
  ...userAdministration,
  ...clientReads,
};
const bosunPermissions = Object.keys(permissionTable) as Permission[];

describe('the role × permission table (docs/re-contract.md, "Roles and permissions")', () => {
  it('knows exactly the seven Redis Enterprise roles', () => {
    assert.deepEqual([...roles].sort(), [...all7].sort());
  });

  it('uses no permission that the expected tables do not know', () => {
    const unknown = bosunPermissions.filter((p) => !(p in expected));
    assert.deepEqual(unknown, []);
  });

  it('covers every cluster-action, node-info, cluster-info and user-info permission of §3.4 that Bosun serves', () => {
    for (const p of [
      'view_status_of_cluster_action',
      'start_cluster_action',
      'cancel_cluster_action',
      'view_cluster_info',
      'view_all_nodes_info',
      'view_node_info',
      'view_all_users_info',
      'view_user_info',
    ]) {
      assert.ok(bosunPermissions.includes(p as Permission), p);
    }
  });

  for (const permission of bosunPermissions) {
    for (const role of all7) {
      const granted = expected[permission]!.includes(role);
      it(`${permission} × ${role}: ${granted ? 'granted' : 'denied'}`, () => {
        assert.equal(roleHas(role, permission), granted);
      });
    }
  }

  it('permissionsOf lists for each role exactly the granted permissions', () => {
    for (const role of all7) {
      const want = bosunPermissions.filter((p) => expected[p]!.includes(role)).sort();
      assert.deepEqual([...permissionsOf(role)].sort(), want, role);
    }
  });

  it('gives `none` no permission at all, and `admin` every one', () => {
    assert.deepEqual(permissionsOf('none'), []);
    assert.deepEqual([...permissionsOf('admin')].sort(), [...bosunPermissions].sort());
  });
});

// ---- end to end ----

const PASSWORD = 'role-password-1';
const emailOf = (role: Role): string => `${role.replace('_', '-')}@roles.test`;
const authOf = (role: Role): string => basic(emailOf(role), PASSWORD);

describe('permissions through the API, one user per role', () => {
  let t: TestNode;
  const uids = new Map<Role, number>();

  before(async () => {
    t = await startTestNode();
    for (const role of all7) {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: { authorization: adminAuth },
        payload: { email: emailOf(role), password: PASSWORD, role },
      });
      assert.equal(res.statusCode, 200, res.body);
      const user = res.json<{ uid: number; role: string; email: string }>();
      assert.equal(user.role, role);
      uids.set(role, user.uid);
    }
  });

  after(async () => {
    await t?.stop();
  });

  const get = (url: string, role: Role) =>
    t.node.app.inject({ method: 'GET', url, headers: { authorization: authOf(role) } });

  const viewerRoutes = [
    '/v1/cluster/actions',
    '/v1/actions',
    '/v2/actions',
    '/v1/cluster',
    '/v1/nodes',
    '/v1/nodes/1',
    '/v1/nodes/status',
    '/v1/nodes/stats',
    '/v1/nodes/1/stats',
    '/v1/cluster/stats',
    '/v1/nodes/actions',
    '/v1/bdbs',
    '/v1/shards',
    '/v1/roles',
    '/v1/roles/1',
  ];
  for (const url of viewerRoutes) {
    for (const role of all7) {
      const allowed = role !== 'none';
      it(`GET ${url} as ${role} → ${allowed ? 200 : 403}`, async () => {
        const res = await get(url, role);
        if (allowed) assert.equal(res.statusCode, 200, res.body);
        else expectError(res, 403, 'unauthorized_action');
      });
    }
  }

  it('GET /v1/cluster/actions answers every viewer the same {actions: [...]}', async () => {
    const bodies = await Promise.all(
      viewers.map(async (role) => (await get('/v1/cluster/actions', role)).json<unknown>()),
    );
    for (const body of bodies) assert.deepEqual(body, bodies[0]);
    assert.ok(Array.isArray((bodies[0] as { actions: unknown }).actions));
  });

  for (const url of ['/v1/users', '/v1/users/1']) {
    for (const role of all7) {
      const allowed = role === 'user_manager' || role === 'admin';
      it(`GET ${url} as ${role} → ${allowed ? 200 : 403}`, async () => {
        const res = await get(url, role);
        if (allowed) assert.equal(res.statusCode, 200, res.body);
        else expectError(res, 403, 'unauthorized_action');
      });
    }
  }

  for (const role of all7.filter((r) => r !== 'admin')) {
    it(`POST /v1/cluster/actions/change_master as ${role} → 403, and nothing starts`, async () => {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/cluster/actions/change_master',
        headers: { authorization: authOf(role) },
        payload: { node_uid: '1' },
      });
      expectError(res, 403, 'unauthorized_action');
      const latest = await get('/v1/cluster/actions/change_master', 'admin');
      expectError(latest, 404, 'action_not_found');
    });

    it(`POST change_master with a bad body as ${role} is still 403 (permission before validation)`, async () => {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/cluster/actions/change_master',
        headers: { authorization: authOf(role) },
        payload: { node_uid: 'abc' },
      });
      expectError(res, 403, 'unauthorized_action');
    });

    it(`DELETE /v1/cluster/actions/change_master as ${role} → 403`, async () => {
      const res = await t.node.app.inject({
        method: 'DELETE',
        url: '/v1/cluster/actions/change_master',
        headers: { authorization: authOf(role) },
      });
      expectError(res, 403, 'unauthorized_action');
    });
  }

  it('POST /v1/cluster/actions/change_master as admin → 200, and the run completes', async () => {
    const res = await t.node.app.inject({
      method: 'POST',
      url: '/v1/cluster/actions/change_master',
      headers: { authorization: authOf('admin') },
      payload: { node_uid: '1' },
    });
    assert.equal(res.statusCode, 200, res.body);
    const run = res.json<{ action_uid: string; requester?: string }>();
    assert.equal(run.requester, emailOf('admin'));
    await poll(
      async () =>
        (await get('/v1/cluster/actions/change_master', 'db_viewer')).json<{ status: string }>().status,
      (s) => s === 'completed',
      'change_master to complete',
    );
  });

  it('DELETE /v1/cluster/actions/change_master as admin → 200 (removes the finished status)', async () => {
    const res = await t.node.app.inject({
      method: 'DELETE',
      url: '/v1/cluster/actions/change_master',
      headers: { authorization: authOf('admin') },
    });
    assert.equal(res.statusCode, 200, res.body);
  });

  for (const role of all7) {
    const allowed = role === 'user_manager' || role === 'admin';
    it(`POST /v1/users as ${role} → ${allowed ? 200 : 403}`, async () => {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: { authorization: authOf(role) },
        payload: { email: `made-by-${role}@roles.test`, password: 'another-password', role: 'db_viewer' },
      });
      if (allowed) assert.equal(res.statusCode, 200, res.body);
      else expectError(res, 403, 'unauthorized_action');
    });
  }

  it('a role change takes effect at once (no stale permission cache)', async () => {
    const uid = uids.get('db_member')!;
    const put = (role: Role) =>
      t.node.app.inject({
        method: 'PUT',
        url: `/v1/users/${uid}`,
        headers: { authorization: adminAuth },
        payload: { role },
      });
    expectError(await get('/v1/users', 'db_member'), 403, 'unauthorized_action');
    assert.equal((await put('user_manager')).statusCode, 200);
    assert.equal((await get('/v1/users', 'db_member')).statusCode, 200);
    assert.equal((await put('none')).statusCode, 200);
    expectError(await get('/v1/cluster/actions', 'db_member'), 403, 'unauthorized_action');
    assert.equal((await put('db_member')).statusCode, 200);
    assert.equal((await get('/v1/cluster/actions', 'db_member')).statusCode, 200);
  });
});

describe('authentication failures are 401', () => {
  let t: TestNode;

  // Wrong passwords go to these accounts, not the admin's: five failures lock an account
  // (test/api/lockout.test.ts), and the checks below must stay about authentication.
  const WRONG1 = 'wrong1@test.local';
  const WRONG2 = 'wrong2@test.local';

  before(async () => {
    t = await startTestNode();
    for (const email of [WRONG1, WRONG2]) {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: { authorization: adminAuth },
        payload: { email, password: ADMIN_PASSWORD, role: 'db_viewer' },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
  });

  after(async () => {
    await t?.stop();
  });

  const attempt = (authorization: string | undefined, url = '/v1/cluster/actions') =>
    t.node.app.inject({
      method: 'GET',
      url,
      headers: authorization === undefined ? {} : { authorization },
    });

  it('accepts the admin credentials (control)', async () => {
    assert.equal((await attempt(adminAuth)).statusCode, 200);
  });

  it('treats the email case-insensitively', async () => {
    assert.equal((await attempt(basic(ADMIN_EMAIL.toUpperCase(), ADMIN_PASSWORD))).statusCode, 200);
  });

  it('no credentials → 401 with a Basic challenge', async () => {
    const res = await attempt(undefined);
    expectError(res, 401, 'unauthorized');
    assert.match(String(res.headers['www-authenticate']), /^Basic /);
  });

  it('no credentials → 401 on every protected route, before any 404', async () => {
    for (const url of [
      '/v1/cluster/actions/change_master',
      '/v1/actions/nope',
      '/v1/nodes/99',
      '/v1/users/99',
      '/v1/cluster',
    ]) {
      expectError(await attempt(undefined, url), 401, 'unauthorized');
    }
  });

  it('wrong password → 401', async () => {
    expectError(await attempt(basic(WRONG1, 'not-the-password')), 401, 'unauthorized');
    expectError(await attempt(basic(WRONG1, '')), 401, 'unauthorized');
    expectError(await attempt(basic(WRONG1, ADMIN_PASSWORD + ' ')), 401, 'unauthorized');
  });

  it('unknown email → 401 (the same answer as a wrong password)', async () => {
    const unknown = await attempt(basic('nobody@test.local', ADMIN_PASSWORD));
    const wrong = await attempt(basic(WRONG2, 'not-the-password'));
    expectError(unknown, 401, 'unauthorized');
    assert.equal(unknown.body, wrong.body, 'the body does not reveal which emails exist');
  });

  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const malformed: [string, string][] = [
    ['an empty header', ''],
    ['a bare scheme', 'Basic'],
    ['a scheme and a space', 'Basic '],
    ['base64 without the space', `Basic${b64(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`)}`],
    ['non-base64 garbage', 'Basic !!!!****'],
    ['credentials without a colon', `Basic ${b64(ADMIN_EMAIL + ADMIN_PASSWORD)}`],
    ['a lone colon', `Basic ${b64(':')}`],
    ['raw credentials, no scheme', `${ADMIN_EMAIL}:${ADMIN_PASSWORD}`],
    ['an unknown scheme with good credentials', `Token ${b64(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`)}`],
    ['Digest', 'Digest username="admin", realm="bosun"'],
    ['an empty JWT', 'JWT '],
    ['a JWT scheme alone', 'JWT'],
    ['a garbage JWT', 'JWT not-a-token'],
    ['a three-part garbage JWT', 'JWT aaa.bbb.ccc'],
    ['Bearer garbage', 'Bearer aaa.bbb.ccc'],
    ['a very long header', `Basic ${'A'.repeat(8000)}`],
  ];
  for (const [label, header] of malformed) {
    it(`malformed Authorization (${label}) → 401`, async () => {
      expectError(await attempt(header), 401, 'unauthorized');
    });
  }

  it('a JWT signed with another key → 401', async () => {
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('1')
      .setIssuer('bosun')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('not-the-cluster-secret-not-the-cluster-secret'));
    expectError(await attempt(`JWT ${forged}`), 401, 'unauthorized');
  });

  it('an unsigned (alg: none) JWT → 401', async () => {
    const unsigned = new UnsecuredJWT({})
      .setSubject('1')
      .setIssuer('bosun')
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    expectError(await attempt(`JWT ${unsigned}`), 401, 'unauthorized');
  });

  it('POST /v1/users/authorize with bad credentials → 401', async () => {
    for (const authorization of [
      undefined,
      basic(WRONG2, 'wrong'),
      basic('nobody@test.local', 'x'),
      'Basic',
    ]) {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/users/authorize',
        headers: authorization === undefined ? {} : { authorization },
      });
      expectError(res, 401, 'unauthorized');
    }
  });

  it('the node keeps answering after all of it', async () => {
    assert.equal((await attempt(adminAuth)).statusCode, 200);
  });
});

describe("the client's role list (src/client/types.ts, which imports nothing from the server)", () => {
  it('is the server’s, in the same order', () => {
    assert.deepEqual([...clientRoles], [...roles]);
  });
});
