/**
 * The authorization matrix (issue 14, "Evidence"): every role against every endpoint the node
 * serves, with HTTP Basic and with a JWT, asserting the exact status. The endpoint list is the
 * node's own route table (`app.bosunRoutes`), so a new endpoint is in the matrix the day it is added,
 * and a path parameter this file does not know how to fill fails the test rather than being skipped.
 *
 * Expected: a route with a permission answers 200 to the roles that hold it (src/api/auth/
 * permissions.ts, itself checked against RE's table in permissions.test.ts) and 403
 * `unauthorized_action` to the others; no credentials, a wrong password and a forged token are 401;
 * public routes answer everyone. Then the escalation cases of findings 2 and 3, by both schemes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SignJWT } from 'jose';
import type { Response as LightMyRequestResponse } from 'light-my-request';

import { roleHas } from '../../src/api/auth/permissions.js';
import { roles, type Role } from '../../src/users/roles.js';
import { adminAuth, basic, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { expectError, poll } from './support.js';

const PASSWORD = 'matrix-password';
type Scheme = 'basic' | 'jwt';
const schemes: readonly Scheme[] = ['basic', 'jwt'];

describe('authorization matrix: every role × every endpoint × Basic and JWT', () => {
  let t: TestNode;
  const auth = new Map<string, string>();
  const uidOf = new Map<Role, number>();
  let targetUid = 0;
  let actionUid = '';
  let seq = 0;

  /**
   * The event streams never end by themselves, so inject() would wait forever: they are asked over
   * real HTTP, and a 200 is its head (a `text/event-stream`), the stream then dropped.
   */
  const streamRequest = async (url: string, authorization?: string): Promise<LightMyRequestResponse> => {
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${t.node.httpAddress()!.port}${url}`, {
      headers: authorization === undefined ? {} : { authorization },
      signal: abort.signal,
    });
    const headers = Object.fromEntries(res.headers.entries());
    if (res.status === 200) {
      assert.match(headers['content-type'] ?? '', /^text\/event-stream/);
      abort.abort();
      return { statusCode: 200, headers, body: '' } as unknown as LightMyRequestResponse;
    }
    const body = await res.text();
    return {
      statusCode: res.status,
      headers,
      body,
      json: () => JSON.parse(body) as unknown,
    } as unknown as LightMyRequestResponse;
  };

  const inject = (method: string, url: string, authorization?: string, payload?: object) =>
    /\/events(\?|$)/.test(url)
      ? streamRequest(url, authorization)
      : t.node.app.inject({
          method: method as 'GET',
          url,
          headers: authorization === undefined ? {} : { authorization },
          ...(payload ? { payload } : {}),
        });

  const makeUser = async (role: Role, email = `m${++seq}@matrix.test`): Promise<number> => {
    const res = await inject('POST', '/v1/users', adminAuth, { email, password: PASSWORD, role });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ uid: number }>().uid;
  };

  const runChangeMaster = async (): Promise<string> => {
    const res = await inject('POST', '/v1/cluster/actions/change_master', adminAuth, { node_uid: 1 });
    assert.equal(res.statusCode, 200, res.body);
    const uid = res.json<{ action_uid: string }>().action_uid;
    await poll(
      async () => (await inject('GET', `/v1/actions/${uid}`, adminAuth)).json<{ status: string }>().status,
      (s) => s === 'completed',
      'change_master to complete',
    );
    return uid;
  };

  before(async () => {
    t = await startTestNode();
    for (const role of roles) {
      const email = `${role}@matrix.test`;
      // Created as db_viewer so that `none` can get a token too, then set to its role: a token
      // carries no role, the user record does, at every request.
      const uid = await makeUser('db_viewer', email);
      const token = await inject('POST', '/v1/users/authorize', basic(email, PASSWORD));
      assert.equal(token.statusCode, 200, token.body);
      if (role !== 'db_viewer') {
        assert.equal((await inject('PUT', `/v1/users/${uid}`, adminAuth, { role })).statusCode, 200);
      }
      uidOf.set(role, uid);
      auth.set(`${role}/basic`, basic(email, PASSWORD));
      auth.set(`${role}/jwt`, `JWT ${token.json<{ access_token: string }>().access_token}`);
    }
    targetUid = await makeUser('db_viewer');
    actionUid = await runChangeMaster();
  });
  after(async () => {
    await t?.stop();
  });

  /** A concrete request for a route, and what to set up first. */
  const concrete = async (
    method: string,
    url: string,
  ): Promise<{ url: string; payload?: object; prepare?: () => Promise<void> }> => {
    const params: Record<string, () => Promise<string> | string> = {
      '/v1/users/:uid': async () =>
        method === 'DELETE' ? String(await makeUser('db_viewer')) : String(targetUid),
      '/v1/roles/:uid': () => '1',
      '/v1/nodes/:uid': () => '1',
      '/v1/nodes/:uid/status': () => '1',
      '/v1/nodes/:uid/stats': () => '1',
      '/v1/nodes/:uid/actions': () => '1',
      '/v1/actions/:uid': () => actionUid,
      '/v1/actions/:uid/events': () => actionUid,
      '/v2/actions/:uid': () => actionUid,
      '/v1/cluster/actions/:action': () => 'change_master',
      // The dashboard's built files (public, like the page itself): one real file.
      '/ui/:file': () => 'app.js',
    };
    // The documentation UI's static files (public, like the document itself): one real asset.
    let filled = url.replace('*', 'swagger-ui.css');
    if (url.includes(':')) {
      const fill = params[url];
      assert.ok(fill, `the matrix does not know how to fill ${method} ${url}: add it`);
      const value = await fill();
      filled = url.replace(/:[a-z_]+/, value);
    }
    if (method === 'POST' && url === '/v1/users') {
      return {
        url: filled,
        payload: { email: `new${++seq}@matrix.test`, password: PASSWORD, role: 'db_viewer' },
      };
    }
    if (method === 'PUT' && url === '/v1/users/:uid')
      return { url: filled, payload: { name: `name-${++seq}` } };
    if (method === 'POST' && url === '/v1/cluster/actions/:action')
      return { url: filled, payload: { node_uid: 1 } };
    if (method === 'DELETE' && url === '/v1/cluster/actions/:action') {
      // Something to remove: a finished run's status.
      return { url: filled, prepare: async () => void (await runChangeMaster()) };
    }
    return { url: filled };
  };

  it('walks a route table that has the user, cluster, node and action endpoints', () => {
    const urls = new Set(t.node.app.bosunRoutes.map((r) => `${r.method} ${r.url}`));
    for (const u of [
      'GET /v1/users',
      'POST /v1/users',
      'PUT /v1/users/:uid',
      'DELETE /v1/users/:uid',
      'POST /v1/users/authorize',
      'POST /v1/cluster/actions/:action',
      'GET /v1/cluster',
      'GET /v1/events',
      'GET /v1/actions/:uid/events',
    ]) {
      assert.ok(urls.has(u), u);
    }
  });

  it('answers every role, by both schemes, exactly as its permission says', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of t.node.app.bosunRoutes) {
      for (const role of roles) {
        for (const scheme of schemes) {
          const c = await concrete(route.method, route.url);
          let expected: number;
          if (route.url === '/v1/users/authorize') expected = role === 'none' ? 403 : 200;
          else if (route.permission === undefined) expected = 200;
          else expected = roleHas(role, route.permission) ? 200 : 403;
          if (expected === 200) await c.prepare?.();
          const res =
            route.url === '/v1/users/authorize'
              ? await inject('POST', c.url, auth.get(`${role}/${scheme}`))
              : await inject(route.method, c.url, auth.get(`${role}/${scheme}`), c.payload);
          checked++;
          // A public page may answer with a redirect (the documentation UI sends /docs/static/index.html
          // to /docs/): that is its success.
          const redirected =
            expected === 200 &&
            route.permission === undefined &&
            res.statusCode >= 300 &&
            res.statusCode < 400;
          if (res.statusCode !== expected && !redirected) {
            failures.push(
              `${route.method} ${c.url} as ${role} (${scheme}): ${res.statusCode}, expected ${expected}: ${res.body.slice(0, 200)}`,
            );
          } else if (expected === 403) {
            expectError(res, 403, 'unauthorized_action');
          }
          // A change_master run must finish before the next one (one instance at a time).
          if (
            route.method === 'POST' &&
            route.url === '/v1/cluster/actions/:action' &&
            res.statusCode === 200
          ) {
            const uid = res.json<{ action_uid: string }>().action_uid;
            await poll(
              async () =>
                (await inject('GET', `/v1/actions/${uid}`, adminAuth)).json<{ status: string }>().status,
              (s) => s === 'completed',
              'change_master to complete',
            );
          }
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(checked >= 7 * 2 * 15, `only ${checked} cells`);
  });

  it('a dry run (?dry_run=true) answers the roles holding its own permission, and says whether they may start the action', async () => {
    const dryRoutes = t.node.app.bosunRoutes.filter((r) => r.dryRunPermission !== undefined);
    assert.ok(dryRoutes.some((r) => r.method === 'POST' && r.url === '/v1/cluster/actions/:action'));
    const failures: string[] = [];
    for (const route of dryRoutes) {
      const c = await concrete(route.method, route.url);
      for (const role of roles) {
        for (const scheme of schemes) {
          const res = await inject(
            route.method,
            `${c.url}?dry_run=true`,
            auth.get(`${role}/${scheme}`),
            c.payload,
          );
          const expected = roleHas(role, route.dryRunPermission!) ? 200 : 403;
          if (res.statusCode !== expected) {
            failures.push(
              `${route.method} ${c.url}?dry_run=true as ${role} (${scheme}): ${res.statusCode}, expected ${expected}`,
            );
            continue;
          }
          if (expected === 403) {
            expectError(res, 403, 'unauthorized_action');
            continue;
          }
          const check = res
            .json<{ checks: { name: string; passed: boolean }[] }>()
            .checks.find((x) => x.name === 'requester_permission');
          if (check?.passed !== roleHas(role, route.permission!))
            failures.push(`${c.url}?dry_run=true as ${role}: requester_permission ${String(check?.passed)}`);
        }
      }
      // No credentials: 401, as for the real request.
      expectError(
        await inject(route.method, `${c.url}?dry_run=true`, undefined, c.payload),
        401,
        'unauthorized',
      );
    }
    assert.deepEqual(failures, []);
  });

  it('the history query parameters of GET /v1/actions need the same permission as the plain list', async () => {
    for (const role of roles) {
      const res = await inject(
        'GET',
        '/v1/actions?name=change_master&order=desc&limit=1',
        auth.get(`${role}/basic`),
      );
      const expected = roleHas(role, 'view_status_of_cluster_action') ? 200 : 403;
      assert.equal(res.statusCode, expected, `${role}: ${res.body}`);
    }
  });

  it('without credentials, with a wrong password, or with a forged token: 401 on every protected route', async () => {
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(uidOf.get('admin')))
      .setIssuer('bosun')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('not-the-cluster-secret-not-the-cluster-secret'));
    // A wrong password for an account nobody else uses here (five would lock it).
    const wrongUser = `wrong@matrix.test`;
    await makeUser('admin', wrongUser);
    let wrongSent = 0;
    for (const route of t.node.app.bosunRoutes.filter((r) => r.permission !== undefined)) {
      const c = await concrete(route.method, route.url);
      const cases: [string, string | undefined][] = [
        ['none', undefined],
        ['forged', `JWT ${forged}`],
      ];
      if (wrongSent++ < 4) cases.push(['wrong password', basic(wrongUser, 'not-the-password')]);
      for (const [label, authorization] of cases) {
        const res = await inject(route.method, c.url, authorization, c.payload);
        assert.equal(res.statusCode, 401, `${route.method} ${c.url} with ${label}: ${res.body}`);
        expectError(res, 401, 'unauthorized');
      }
    }
  });

  describe('escalation cases, by both schemes (findings 2 and 3)', () => {
    for (const scheme of schemes) {
      const as = (role: Role): string => auth.get(`${role}/${scheme}`)!;

      it(`${scheme}: a user_manager cannot create an admin, by role or by role_uids → 403`, async () => {
        expectError(
          await inject('POST', '/v1/users', as('user_manager'), {
            email: `e${++seq}@m.test`,
            password: PASSWORD,
            role: 'admin',
          }),
          403,
          'unauthorized_action',
        );
        expectError(
          await inject('POST', '/v1/users', as('user_manager'), {
            email: `e${++seq}@m.test`,
            password: PASSWORD,
            role_uids: [1],
          }),
          403,
          'unauthorized_action',
        );
      });

      it(`${scheme}: a user_manager cannot raise itself or anyone to admin → 403`, async () => {
        for (const uid of [uidOf.get('user_manager')!, targetUid]) {
          expectError(
            await inject('PUT', `/v1/users/${uid}`, as('user_manager'), { role: 'admin' }),
            403,
            'unauthorized_action',
          );
          expectError(
            await inject('PUT', `/v1/users/${uid}`, as('user_manager'), { role_uids: [1] }),
            403,
            'unauthorized_action',
          );
        }
      });

      it(`${scheme}: a user_manager cannot reset an admin's password, change or delete an admin (uid 1 too) → 403`, async () => {
        for (const uid of [1, uidOf.get('admin')!]) {
          expectError(
            await inject('PUT', `/v1/users/${uid}`, as('user_manager'), { password: 'hijacked-password' }),
            403,
            'unauthorized_action',
          );
          expectError(
            await inject('PUT', `/v1/users/${uid}`, as('user_manager'), { email: `x${++seq}@m.test` }),
            403,
            'unauthorized_action',
          );
          expectError(
            await inject('DELETE', `/v1/users/${uid}`, as('user_manager')),
            403,
            'unauthorized_action',
          );
        }
      });

      it(`${scheme}: lower roles cannot touch users at all → 403`, async () => {
        for (const role of ['none', 'db_viewer', 'db_member', 'cluster_viewer', 'cluster_member'] as const) {
          expectError(
            await inject('PUT', `/v1/users/${uidOf.get(role)!}`, as(role), { role: 'admin' }),
            403,
            'unauthorized_action',
          );
          expectError(await inject('DELETE', `/v1/users/${targetUid}`, as(role)), 403, 'unauthorized_action');
        }
      });
    }

    it('the last admin cannot be demoted or deleted (409 last_admin), by Basic or JWT', async () => {
      // Leave one admin: uid 1. Demote the matrix's own admins first (uid 1 does it).
      const admins = (await inject('GET', '/v1/users', adminAuth))
        .json<{ uid: number; role: string }[]>()
        .filter((u) => u.role === 'admin' && u.uid !== 1);
      for (const a of admins) {
        assert.equal(
          (await inject('PUT', `/v1/users/${a.uid}`, adminAuth, { role: 'db_viewer' })).statusCode,
          200,
        );
      }
      const jwt = await inject('POST', '/v1/users/authorize', adminAuth);
      const adminJwt = `JWT ${jwt.json<{ access_token: string }>().access_token}`;
      for (const a of [adminAuth, adminJwt]) {
        expectError(await inject('PUT', '/v1/users/1', a, { role: 'user_manager' }), 409, 'last_admin');
        expectError(await inject('PUT', '/v1/users/1', a, { role_uids: [7] }), 409, 'last_admin');
      }
      assert.equal((await inject('GET', '/v1/users/1', adminAuth)).json<{ role: string }>().role, 'admin');
    });
  });
});
