/**
 * Bosun's live answers held against what the public Redis Enterprise clients decode (issue 8):
 * the `redis-enterprise` Rust crate and redisctl built on it, and the Go REST SDK of the Vault
 * plugin. Real `bosun node` processes, real HTTP, a real store: defined once, run on each store
 * (sqlite.test.ts, etcd.test.ts). The expectations are in client-types.ts, each citing its source.
 */
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { after, before, describe, it } from 'node:test';

import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth, basic } from '../helpers/in-process-node.js';
import { eventually, ProcessCluster, type ClusterNode } from '../helpers/process-cluster.js';
import {
  AccessToken,
  Bootstrap,
  ClusterActionRun,
  ClusterInfo,
  ClusterStats,
  Node,
  NodeStats,
  NodeStatsEntry,
  Role,
  User,
  V1Task,
  V2Action,
  VaultCluster,
  VaultUser,
} from './client-types.js';
import { decode, decodeVec, type Shape } from './decode.js';
import { pollAction } from './redisctl-poll.js';

export interface CompatStore {
  /** A fresh store URL for the cluster; undefined: a SQLite file in the cluster's folder. */
  url(): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/** One HTTP exchange with full control of the headers, as each client sends them. */
async function send(
  node: ClusterNode,
  method: string,
  path: string,
  options: { auth?: string | null; body?: unknown; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.auth !== null) headers.authorization = options.auth ?? adminAuth;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await fetch(node.url + path, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, text };
}

function assertDecodes(answer: Answer, shape: Shape, what: string): void {
  assert.equal(answer.status, 200, `${what}: ${answer.text}`);
  assert.deepEqual(decode(answer.body, shape), [], `${what} decodes: ${answer.text}`);
}

function assertDecodesVec(answer: Answer, shape: Shape, what: string): void {
  assert.equal(answer.status, 200, `${what}: ${answer.text}`);
  assert.deepEqual(decodeVec(answer.body, shape), [], `${what} decodes: ${answer.text}`);
}

function assertCatalogueError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.deepEqual(Object.keys(answer.body as object).sort(), ['description', 'error_code'], answer.text);
  assert.equal((answer.body as { error_code: string }).error_code, code, answer.text);
}

export function defineCompatSuite(label: string, store: CompatStore): void {
  describe(`Redis Enterprise clients against Bosun (${label})`, { timeout: 300_000 }, () => {
    let cluster: ProcessCluster;
    let n1: ClusterNode;
    const get = (path: string, auth?: string) => send(n1, 'GET', path, auth === undefined ? {} : { auth });
    const runs: { completed?: string; failed?: string; cancelled?: string } = {};

    before(async () => {
      const url = await store.url();
      // As the CLI tests: a long lease keeps a paused target a live member, so a hand-over to it
      // waits for the hand-over timeout (failed) or for a DELETE (cancelled).
      cluster = await ProcessCluster.start({
        nodes: 3,
        leaseTtlMs: 6000,
        handoverTimeoutMs: 3000,
        ...(url ? { store: url } : {}),
      });
      n1 = cluster.node(1);
    });

    after(async () => {
      await cluster?.destroy();
      await store.cleanup();
    });

    const master = () => cluster.waitForAgreedMaster();
    const nonMaster = async (): Promise<ClusterNode> => {
      const m = await master();
      return cluster.nodes.find((n) => n.uid !== m && n.uid !== 1) ?? cluster.nodes.find((n) => n.uid !== m)!;
    };
    const changeMaster = async (target: number): Promise<string> => {
      const res = await send(n1, 'POST', '/v1/cluster/actions/change_master', {
        body: { node_uid: String(target) },
      });
      assert.equal(res.status, 200, res.text);
      return (res.body as { action_uid: string }).action_uid;
    };
    const poll = (uid: string) =>
      pollAction((path) => get(path), uid, { timeoutMs: 30_000, intervalMs: 100 });

    // ---- redisctl's poll loop (crates/redisctl-core/src/enterprise/progress.rs) ----

    it('redisctl poll_action ends Ok for a completed change_master', async () => {
      const target = await nonMaster();
      const uid = await changeMaster(target.uid);
      const outcome = await poll(uid);
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal(outcome.action.status, 'completed');
      assert.equal(outcome.action.progress, '100');
      assert.equal(await master(), target.uid);
      runs.completed = uid;
    });

    it('redisctl poll_action ends with "Action failed" for a failed change_master', async () => {
      const before = await master();
      const target = await nonMaster();
      await target.signal('SIGSTOP');
      let uid: string;
      try {
        uid = await changeMaster(target.uid);
        const outcome = await poll(uid);
        assert.ok(!outcome.ok);
        // Bosun carries the reason in error_code/error_message (RE's fields), not in `error`.
        assert.equal(outcome.error, 'Action failed');
      } finally {
        await target.signal('SIGCONT');
      }
      const run = (await get(`/v1/actions/${uid}`)).body as { error_code?: string };
      assert.equal(run.error_code, 'handover_timeout');
      assert.equal(await master(), before);
      runs.failed = uid;
    });

    it('redisctl poll_action ends with "Action cancelled" for a cancelled change_master', async () => {
      // Cancelled before its point of no return: queued, while the master is paused and cannot claim
      // it. (Past the hand-over intent a DELETE is a 409 action_not_cancellable: docs/decisions.md.)
      const before = await master();
      const paused = cluster.node(before);
      const via = cluster.nodes.find((n) => n.uid !== before)!;
      const target = cluster.nodes.find((n) => n.uid !== before && n.uid !== via.uid)!;
      await paused.signal('SIGSTOP');
      let uid: string;
      try {
        const res = await send(via, 'POST', '/v1/cluster/actions/change_master', {
          body: { node_uid: String(target.uid) },
        });
        assert.equal(res.status, 200, res.text);
        uid = (res.body as { action_uid: string }).action_uid;
        const del = await send(via, 'DELETE', '/v1/cluster/actions/change_master');
        assert.equal(del.status, 200, del.text);
        assert.equal((del.body as { status: string }).status, 'cancelled', del.text);
      } finally {
        await paused.signal('SIGCONT');
      }
      const outcome = await poll(uid);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error, 'Action cancelled');
      assert.equal(await master(), before);
      runs.cancelled = uid;
    });

    // ---- actions: three forms ----

    it('GET /v1/actions: {"actions": [...], "state-machines": [...]}, task entries as a real cluster sends them', async () => {
      const res = await get('/v1/actions');
      assert.equal(res.status, 200);
      const body = res.body as { actions: Record<string, unknown>[]; 'state-machines': unknown[] };
      assert.deepEqual(Object.keys(body).sort(), ['actions', 'state-machines']);
      assert.ok(Array.isArray(body['state-machines']));
      assert.deepEqual(decodeVec(body.actions, V1Task, '$.actions'), []);
      for (const a of body.actions) assert.equal(a.task_id, a.action_uid);
      const byUid = new Map(body.actions.map((a) => [a.action_uid, a.status]));
      assert.equal(byUid.get(runs.completed), 'completed');
      assert.equal(byUid.get(runs.failed), 'failed');
      assert.equal(byUid.get(runs.cancelled), 'cancelled');
    });

    it('GET /v1/actions/{uid} decodes as the crate’s Action; an unknown uid → 404', async () => {
      for (const uid of [runs.completed, runs.failed, runs.cancelled]) {
        const res = await get(`/v1/actions/${uid}`);
        assertDecodes(res, V1Task, `/v1/actions/${uid}`);
        const task = res.body as Record<string, unknown>;
        assert.equal(task.task_id, uid);
        if (task.status === 'failed') {
          assert.equal(typeof task.error_code, 'string');
          assert.equal(typeof task.error_message, 'string');
        }
      }
      assertCatalogueError(await get('/v1/actions/no-such-action'), 404, 'action_not_found');
    });

    it('GET /v2/actions is a bare array of v2 objects; /v2/actions/{uid} is one', async () => {
      const list = await get('/v2/actions');
      assertDecodesVec(list, V2Action, '/v2/actions');
      const byUid = new Map(
        (list.body as { action_uid: string; status: string }[]).map((a) => [a.action_uid, a]),
      );
      assert.equal(byUid.get(runs.completed!)?.status, 'completed');
      assert.equal(byUid.get(runs.failed!)?.status, 'failed');
      // v2 knows no `cancelled`: a poll loop on its four values must still stop.
      assert.equal(byUid.get(runs.cancelled!)?.status, 'failed');
      const one = await get(`/v2/actions/${runs.completed}`);
      assertDecodes(one, V2Action, '/v2/actions/{uid}');
      assert.equal((one.body as { progress: number }).progress, 100);
      assertCatalogueError(await get('/v2/actions/no-such-action'), 404, 'action_not_found');
    });

    it('GET /v1/cluster/actions keeps the seed’s numeric form, in {"actions": [...]}', async () => {
      const res = await get('/v1/cluster/actions');
      assert.equal(res.status, 200);
      const body = res.body as { actions: unknown[] };
      assert.deepEqual(Object.keys(body), ['actions']);
      assert.deepEqual(decodeVec(body.actions, ClusterActionRun, '$.actions'), []);
      assertDecodes(await get('/v1/cluster/actions/change_master'), ClusterActionRun, 'one cluster action');
    });

    // ---- what redisctl asks first: profile test, `enterprise status`, init-cluster ----

    it('`enterprise status`: /v1/cluster, /v1/nodes, /v1/bdbs and /v1/shards all decode', async () => {
      const clusterInfo = await get('/v1/cluster');
      assertDecodes(clusterInfo, ClusterInfo, '/v1/cluster');
      assertDecodes(clusterInfo, VaultCluster, '/v1/cluster (Vault)');
      assert.ok(!('uid' in (clusterInfo.body as object)), 'no UUID uid where the crate reads Option<u32>');
      assertDecodesVec(await get('/v1/nodes'), Node, '/v1/nodes');
      assertDecodes(await get('/v1/nodes/2'), Node, '/v1/nodes/2');
      // No databases, no shards: the truthful answers are empty lists.
      for (const path of ['/v1/bdbs', '/v1/shards']) {
        const res = await get(path);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, []);
      }
    });

    it('GET /v1/nodes/status is keyed by uid strings, one master', async () => {
      const res = await get('/v1/nodes/status');
      assert.equal(res.status, 200);
      const body = res.body as Record<string, { role: string; node_status: string }>;
      assert.deepEqual(Object.keys(body).sort(), ['1', '2', '3']);
      assert.equal(Object.values(body).filter((s) => s.role === 'master').length, 1);
      for (const s of Object.values(body)) assert.ok(['master', 'slave'].includes(s.role));
    });

    it('GET /v1/bootstrap, unauthenticated: set up; redisctl init-cluster sees no need to bootstrap', async () => {
      const res = await send(n1, 'GET', '/v1/bootstrap', { auth: null });
      assertDecodes(res, Bootstrap, '/v1/bootstrap');
      const body = res.body as { bootstrap_status: { state: string }; state?: string };
      assert.equal(body.bootstrap_status.state, 'completed');
      // redisctl crates/redisctl/src/workflows/enterprise/init_cluster.rs check_if_needs_bootstrap.
      const needsBootstrap =
        typeof body.state === 'string' ? ['unconfigured', 'new'].includes(body.state) : true;
      assert.equal(needsBootstrap, false);
    });

    // ---- stats: what each node measured of itself ----

    it('GET /v1/nodes/stats: one entry per live node, real OS figures, as the capture shapes them', async () => {
      const entries = await eventually(
        async () => {
          const res = await get('/v1/nodes/stats');
          const list = res.body as { uid: number; intervals: unknown[] }[];
          return res.status === 200 && list.length === 3 && list.every((e) => e.intervals.length > 0)
            ? res
            : undefined;
        },
        20_000,
        'every node to publish a sample',
      );
      assertDecodesVec(entries, NodeStatsEntry, '/v1/nodes/stats');
      for (const e of entries.body as { uid: number; intervals: Record<string, number>[] }[]) {
        const iv = e.intervals[0]!;
        const cpu = iv.cpu_user! + iv.cpu_system! + iv.cpu_idle! + iv.cpu_nice! + iv.cpu_irqs!;
        assert.ok(Math.abs(cpu - 1) < 0.01, `CPU fractions of node ${e.uid} sum to 1: ${cpu}`);
        assert.ok(iv.free_memory! > 0 && iv.free_memory! <= totalmem(), 'free memory within the machine');
        assert.ok(iv.persistent_storage_avail! <= iv.persistent_storage_free!);
      }
    });

    it('GET /v1/nodes/{uid}/stats decodes as the crate’s NodeStats for every node, from any node', async () => {
      for (const uid of [1, 2, 3]) {
        const res = await get(`/v1/nodes/${uid}/stats`);
        assertDecodes(res, NodeStats, `/v1/nodes/${uid}/stats`);
        assert.equal((res.body as { uid: number }).uid, uid);
      }
      assertCatalogueError(await get('/v1/nodes/9/stats'), 404, 'node_not_found');
      assertCatalogueError(await get('/v1/nodes/abc/stats'), 404, 'node_not_found');
    });

    it('GET /v1/cluster/stats: {"intervals": [...]}; stime/etime select, a bad interval is a 400', async () => {
      assertDecodes(await get('/v1/cluster/stats'), ClusterStats, '/v1/cluster/stats');
      const now = Date.now();
      const iso = (ms: number) => new Date(ms).toISOString();
      const window = await get(
        `/v1/cluster/stats?interval=1hour&stime=${iso(now - 3_600_000)}&etime=${iso(now + 60_000)}`,
      );
      assertDecodes(window, ClusterStats, 'a window around now');
      assert.equal((window.body as { intervals: unknown[] }).intervals.length, 1);
      const future = await get(`/v1/cluster/stats?stime=${iso(now + 3_600_000)}`);
      assert.deepEqual(future.body, { intervals: [] });
      const bad = await get('/v1/nodes/stats?interval=2min');
      assertCatalogueError(bad, 400, 'invalid_schema');
      assert.match((bad.body as { description: string }).description, /"interval"/);
    });

    it('paths that name no resource are 404s from the catalogue, never a 400 or a parsed uid', async () => {
      const nodeActions = await get('/v1/nodes/actions');
      assert.equal(nodeActions.status, 200, nodeActions.text);
      assert.deepEqual(nodeActions.body, { actions: [] });
      assertCatalogueError(await get('/v1/nodes/abc'), 404, 'node_not_found');
      assertCatalogueError(await get('/v1/users/abc'), 404, 'user_not_exist');
      assertCatalogueError(await get('/v1/no/such/thing'), 404, 'not_found');
      assertCatalogueError(await get('/v1/roles/99'), 404, 'role_not_found');
    });

    // ---- authentication ----

    it('POST /v1/users/authorize: Basic, {email, password} (the crate), {username, password}; extra keys ignored', async () => {
      const cases: { auth?: string | null; body?: unknown }[] = [
        // redis-enterprise-rs src/users.rs `authorize`: Basic header plus {email, password}.
        { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } },
        { auth: null, body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } },
        { auth: null, body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } },
        { auth: null, body: { username: 'Administrator', password: ADMIN_PASSWORD } },
        {},
        { body: { ttl: 60, jwt_ttl: 5, whatever: { nested: true } } },
      ];
      for (const c of cases) {
        const res = await send(n1, 'POST', '/v1/users/authorize', c);
        assertDecodes(res, AccessToken, `authorize ${JSON.stringify(c)}`);
        const token = (res.body as { access_token: string }).access_token;
        assert.equal((await get('/v1/cluster', `JWT ${token}`)).status, 200);
      }
      const wrong = await send(n1, 'POST', '/v1/users/authorize', {
        auth: null,
        body: { email: ADMIN_EMAIL, password: 'wrong-password', extra: 1 },
      });
      assertCatalogueError(wrong, 401, 'unauthorized');
    });

    // ---- users and roles ----

    it('the Vault plugin’s SDK: role by name from /v1/roles, a user with a name and no email, password change, delete', async () => {
      // internal/sdk/roles.go FindRoleByName
      const roles = await get('/v1/roles');
      assertDecodesVec(roles, Role, '/v1/roles');
      const dbMember = (roles.body as { uid: number; name: string; management: string }[]).find(
        (r) => r.name === 'DB Member',
      );
      assert.ok(dbMember);
      assert.equal(dbMember.management, 'db_member');
      assertDecodes(await get(`/v1/roles/${dbMember.uid}`), Role, '/v1/roles/{uid}');

      // internal/plugin/new_user.go + internal/sdk/model.go CreateUser; sdk.go's Content-Type.
      const name = `v-token-${label}-role-1234`;
      const created = await send(n1, 'POST', '/v1/users', {
        contentType: 'application/json;charset=utf-8',
        body: {
          name,
          password: 'vault-generated-Password-1',
          role_uids: [dbMember.uid],
          email_alerts: false,
          auth_method: 'regular',
        },
      });
      // sdk.go: any status but 200 is an error.
      assertDecodes(created, VaultUser, 'created user (Vault)');
      assertDecodes(created, User, 'created user (crate)');
      const user = created.body as {
        uid: number;
        role: string;
        role_uids: number[];
        email: string;
        email_alerts: boolean;
      };
      assert.equal(user.role, 'db_member');
      assert.deepEqual(user.role_uids, [dbMember.uid]);
      assert.equal(user.email, '');
      assert.equal(user.email_alerts, false);

      // The user signs in by name (RE: name or email).
      assert.equal((await get('/v1/cluster', basic(name, 'vault-generated-Password-1'))).status, 200);

      // internal/sdk/users.go FindUserByName over GET /v1/users.
      const list = await get('/v1/users');
      assertDecodesVec(list, VaultUser, '/v1/users (Vault)');
      assert.ok((list.body as { name: string }[]).some((u) => u.name === name));

      // UpdateUserPassword: PUT {password}; the answer must be exactly 200.
      const put = await send(n1, 'PUT', `/v1/users/${user.uid}`, {
        contentType: 'application/json;charset=utf-8',
        body: { password: 'vault-rotated-Password-2' },
      });
      assert.equal(put.status, 200, put.text);
      assert.equal((await get('/v1/cluster', basic(name, 'vault-generated-Password-1'))).status, 401);
      assert.equal((await get('/v1/cluster', basic(name, 'vault-rotated-Password-2'))).status, 200);

      const del = await send(n1, 'DELETE', `/v1/users/${user.uid}`);
      assert.equal(del.status, 200, del.text);
      assert.equal((await get('/v1/cluster', basic(name, 'vault-rotated-Password-2'))).status, 401);
    });

    it('the crate’s CreateUserRequest and UpdateUserRequest fields are stored and returned', async () => {
      // redis-enterprise-rs src/users.rs CreateUserRequest (+ cluster_email_alerts, status: 0.9.1).
      const created = await send(n1, 'POST', '/v1/users', {
        body: {
          email: `crate-${label}@compat.test`,
          password: 'crate-password-1',
          role: 'cluster_viewer',
          name: `crate user ${label}`,
          email_alerts: true,
          bdbs_email_alerts: ['1', '2'],
          cluster_email_alerts: true,
          role_uids: [3],
          auth_method: 'regular',
          status: 'active',
        },
      });
      assertDecodes(created, User, 'created user');
      const user = created.body as Record<string, unknown> & { uid: number };
      assert.equal(user.role, 'cluster_viewer');
      assert.deepEqual(user.bdbs_email_alerts, ['1', '2']);
      assert.equal(user.cluster_email_alerts, true);

      const updated = await send(n1, 'PUT', `/v1/users/${user.uid}`, {
        body: { email_alerts: false, bdbs_email_alerts: [], role: 'db_viewer', name: `renamed ${label}` },
      });
      assertDecodes(updated, User, 'updated user');
      const after = (await get(`/v1/users/${user.uid}`)).body as Record<string, unknown>;
      assert.equal(after.email_alerts, false);
      assert.deepEqual(after.bdbs_email_alerts, []);
      assert.equal(after.role, 'db_viewer');
      assert.deepEqual(after.role_uids, [5]);
      assertDecodesVec(await get('/v1/users'), User, '/v1/users');

      // A locked account signs in with nothing.
      await send(n1, 'PUT', `/v1/users/${user.uid}`, { body: { status: 'locked' } });
      assert.equal(
        (await get('/v1/cluster', basic(`crate-${label}@compat.test`, 'crate-password-1'))).status,
        401,
      );
    });

    it('undocumented user fields are still a 400 that names the field', async () => {
      const res = await send(n1, 'POST', '/v1/users', {
        body: { email: `bogus-${label}@compat.test`, password: 'bogus-password-1', nickname: 'x' },
      });
      assertCatalogueError(res, 400, 'invalid_schema');
      assert.match((res.body as { description: string }).description, /"nickname"/);
      const mismatch = await send(n1, 'POST', '/v1/users', {
        body: {
          email: `bogus-${label}@compat.test`,
          password: 'bogus-password-1',
          role: 'admin',
          role_uids: [5],
        },
      });
      assertCatalogueError(mismatch, 400, 'invalid_schema');
      assert.match((mismatch.body as { description: string }).description, /role_uids/);
    });
  });
}
