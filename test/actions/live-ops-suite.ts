/**
 * Issue 10's action additions with real `bosun node` processes, real HTTP and a real store, defined
 * once and run on each store (live-ops-sqlite.test.ts, live-ops-etcd.test.ts): the dry run (go,
 * no-go with a node down, nothing written), Idempotency-Key across nodes and restarts (and its
 * expiry), the 409 bodies and DELETE past the point of no return, history paging while runs are
 * added, and retention by count and by age.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { adminAuth } from '../helpers/in-process-node.js';
import {
  eventually,
  ProcessCluster,
  sleep,
  waitForRun,
  type ClusterNode,
} from '../helpers/process-cluster.js';

export interface SuiteStore {
  /** A fresh store URL for a cluster; undefined: a SQLite file in the cluster's folder. */
  url(): Promise<string | undefined>;
  /** Makes the store lose its quorum (etcd only; undefined where that cannot happen). */
  loseQuorum?: () => Promise<() => Promise<void>>;
  cleanup(): Promise<void>;
}

interface Check {
  name: string;
  passed: boolean;
  message: string;
}
interface Preflight {
  verdict: string;
  checks: Check[];
}
interface Task {
  action_uid: string;
  name: string;
  status: string;
}

/** A POST with full control of the headers; the answer's headers too. */
async function post(node: ClusterNode, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(node.url + path, {
    method: 'POST',
    headers: { authorization: adminAuth, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Every key the API writes for runs and keys, with its mod revision (what a dry run must not touch). */
async function actionKeys(store: Store, prefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const folder of ['actions/', 'active/', 'cluster-actions/', 'idempotency/', 'master', 'transfer']) {
    for (const kv of (await store.range(prefix + folder)).kvs) out[kv.key] = kv.modRevision;
  }
  return out;
}

export function defineLiveOpsSuite(label: string, suiteStore: SuiteStore): void {
  describe(`live actions on real nodes (${label})`, { timeout: 240_000 }, () => {
    let cluster: ProcessCluster;
    let store: Store;
    const prefix = '/bosun/';

    const master = () => cluster.waitForAgreedMaster();
    const other = async (not: number[] = []) => {
      const m = await master();
      return cluster.nodes.find((n) => n.uid !== m && !not.includes(n.uid) && n.running)!;
    };
    /**
     * SIGSTOPs a node, but never while it holds SQLite's write lock (that would stall every node):
     * a probe write must go through, else the node resumes and is paused again a moment later.
     */
    const pauseSafely = async (node: ClusterNode): Promise<void> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        await node.signal('SIGSTOP');
        try {
          await store.txn({
            compare: [],
            success: [{ type: 'put', key: '/live-ops-probe', value: String(attempt) }],
          });
          return;
        } catch {
          await node.signal('SIGCONT');
          await sleep(50);
        }
      }
      throw new Error(`node ${node.uid} could not be paused outside a write`);
    };
    const changeMasterTo = async (via: ClusterNode, uid: number, headers: Record<string, string> = {}) =>
      post(via, '/v1/cluster/actions/change_master', { node_uid: uid }, headers);

    before(async () => {
      const url = await suiteStore.url();
      // A long lease: a SIGSTOPped target stays a live member, so its hand-over waits for the timeout.
      cluster = await ProcessCluster.start({
        nodes: 3,
        leaseTtlMs: 4000,
        handoverTimeoutMs: 3000,
        ...(url ? { store: url } : {}),
      });
      store = await openStore(cluster.store);
    });
    after(async () => {
      await store?.close();
      await cluster?.destroy();
    });

    it('dry run: go with every check passed, and not one key written', async () => {
      const n1 = cluster.node(1);
      const target = await other();
      const before = await actionKeys(store, prefix);
      const res = await post(n1, '/v1/cluster/actions/change_master?dry_run=true', { node_uid: target.uid });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const body = res.body as unknown as Preflight;
      assert.equal(body.verdict, 'go', JSON.stringify(body));
      assert.ok(body.checks.every((c) => c.passed));
      assert.deepEqual(await actionKeys(store, prefix), before, 'the dry run wrote nothing');
    });

    it('dry run: no-go, in the same shape, with the target down; nothing written', async () => {
      const target = await other();
      const via = await other([target.uid]);
      await target.signal('SIGKILL');
      try {
        // Once its lease is gone from the store.
        const body = await eventually(async () => {
          const res = await post(via, '/v1/cluster/actions/change_master?dry_run=true', {
            node_uid: target.uid,
          });
          const b = res.body as unknown as Preflight;
          // The lease check reads the store, the activity check the node's view, which may apply
          // the lease's end a moment later: wait for both.
          const failed = (name: string) => b.checks.find((c) => c.name === name)?.passed === false;
          return res.status === 200 && failed('target_lease_fresh') && failed('target_active')
            ? b
            : undefined;
        }, 20_000);
        assert.equal(body.verdict, 'no-go');
        const active = body.checks.find((c) => c.name === 'target_active')!;
        assert.equal(active.passed, false);
        assert.match(active.message, /not active/);
        assert.equal(body.checks.find((c) => c.name === 'store_quorum')?.passed, true);
        const before = await actionKeys(store, prefix);
        await post(via, '/v1/cluster/actions/change_master?dry_run=true', { node_uid: target.uid });
        assert.deepEqual(await actionKeys(store, prefix), before);
      } finally {
        target.start();
      }
      await eventually(
        async () => ((await target.get('/v1/cluster')).status === 200 ? true : undefined),
        20_000,
      );
    });

    it('Idempotency-Key: the same run from another node, concurrently, after a restart; 422 for another body', async () => {
      const target = await other();
      const [a, b] = cluster.nodes.filter((n) => n.uid !== target.uid);
      const key = { 'idempotency-key': `live-${label}-1` };
      // The same request sent to two nodes at once: one run, both answers name it.
      const [r1, r2] = await Promise.all([
        changeMasterTo(a!, target.uid, key),
        changeMasterTo(b!, target.uid, key),
      ]);
      assert.equal(r1.status, 200, JSON.stringify(r1.body));
      assert.equal(r2.status, 200, JSON.stringify(r2.body));
      assert.equal(r1.body.action_uid, r2.body.action_uid);
      const uid = String(r1.body.action_uid);
      assert.equal([r1, r2].filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 1);
      await waitForRun(a!, uid);
      await master();

      await b!.signal('SIGKILL');
      b!.start();
      await eventually(async () => ((await b!.get('/v1/cluster')).status === 200 ? true : undefined), 20_000);
      const replay = await changeMasterTo(b!, target.uid, key);
      assert.equal(replay.status, 200, JSON.stringify(replay.body));
      assert.equal(replay.body.action_uid, uid, 'the same run after a restart');
      assert.equal(replay.body.status, 'completed');

      const differs = await changeMasterTo(target, a!.uid, key);
      assert.equal(differs.status, 422, JSON.stringify(differs.body));
      assert.equal(differs.body.error_code, 'idempotency_key_reused');
    });

    it('past the hand-over intent: cancellable_reason, a DELETE is a 409 naming the run, as is a second POST', async () => {
      const before = await master();
      const target = await other();
      const via = cluster.node(before);
      await pauseSafely(target);
      let uid: string;
      try {
        const started = await changeMasterTo(via, target.uid);
        assert.equal(started.status, 200, JSON.stringify(started.body));
        uid = String(started.body.action_uid);
        const run = await eventually(async () => {
          const r = await via.get<Record<string, unknown>>(`/v1/cluster/actions/change_master`);
          return r.body.phase === 'handing_over' ? r.body : undefined;
        });
        assert.equal(run.cancellable, false);
        assert.equal(run.cancellable_reason, 'the target may take over at any moment');

        const del = await via.request<Record<string, unknown>>('DELETE', '/v1/cluster/actions/change_master');
        assert.equal(del.status, 409, JSON.stringify(del.body));
        assert.equal(del.body.error_code, 'action_not_cancellable');
        assert.equal(del.body.action_uid, uid);
        assert.equal(del.body.cancellable_reason, 'the target may take over at any moment');
        assert.match(String(del.body.description), /the target may take over at any moment/);

        const again = await changeMasterTo(via, target.uid);
        assert.equal(again.status, 409);
        assert.equal(again.body.error_code, 'action_in_progress');
        assert.equal(again.body.action_uid, uid);
        assert.equal(again.body.status, 'running');
        assert.equal(again.body.progress, 40);
      } finally {
        await target.signal('SIGCONT');
      }
      const end = await waitForRun(via, uid);
      assert.notEqual(end.status, 'cancelled', 'the refused DELETE cancelled nothing');
    });

    it('history: filters, newest first, cursor pages across nodes with no duplicate or gap while runs are added', async () => {
      const [n1, n2] = cluster.nodes;
      const list = async (node: ClusterNode, q: string) => {
        const res = await node.get<{ actions: Task[]; next_cursor?: string }>(`/v1/actions?${q}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body;
      };
      const plain = await n1!.get<Record<string, unknown>>('/v1/actions');
      assert.deepEqual(
        Object.keys(plain.body).sort(),
        ['actions', 'state-machines'],
        'no parameter: today’s answer',
      );
      for (let i = 0; i < 2; i++) {
        const run = await changeMasterTo(n1!, (await other()).uid);
        assert.equal(run.status, 200, JSON.stringify(run.body));
        await waitForRun(n1!, String(run.body.action_uid));
      }
      const everything = (await list(n1!, 'name=change_master')).actions.map((a) => a.action_uid);
      assert.ok(everything.length >= 3);
      const seen: string[] = [];
      let cursor: string | undefined;
      let page = 0;
      do {
        // Alternate nodes: a cursor is not tied to the node that issued it.
        const node = page++ % 2 === 0 ? n1! : n2!;
        const body = await list(
          node,
          `name=change_master&order=desc&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...body.actions.map((a) => a.action_uid));
        cursor = body.next_cursor;
        if (page === 2) {
          const added = await changeMasterTo(n1!, (await other()).uid);
          assert.equal(added.status, 200);
          await waitForRun(n1!, String(added.body.action_uid));
        }
      } while (cursor);
      assert.deepEqual(seen, [...everything].reverse());
      const ended = await list(n2!, 'status=completed,failed&name=change_master');
      assert.ok(ended.actions.length >= 1);
      assert.ok(ended.actions.every((a) => a.status === 'completed' || a.status === 'failed'));
      assert.equal((await list(n2!, 'status=queued')).actions.length, 0);
      const bad = await n2!.get<Record<string, unknown>>('/v1/actions?limit=-1');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error_code, 'invalid_schema');
    });

    if (suiteStore.loseQuorum) {
      it('dry run without a store quorum: 200 no-go, store_quorum failed, instead of a 503', async () => {
        const restore = await suiteStore.loseQuorum!();
        try {
          const via = cluster.node(1);
          const res = await post(via, '/v1/cluster/actions/change_master?dry_run=true', { node_uid: 2 });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          const body = res.body as unknown as Preflight;
          assert.equal(body.verdict, 'no-go');
          assert.equal(body.checks.find((c) => c.name === 'store_quorum')?.passed, false);
        } finally {
          await restore();
        }
        await master();
      });
    }
  });

  describe(`run retention on real nodes (${label})`, { timeout: 180_000 }, () => {
    let cluster: ProcessCluster;
    before(async () => {
      const url = await suiteStore.url();
      cluster = await ProcessCluster.start({
        nodes: 2,
        nodeArgs: [
          '--retain-runs',
          '3',
          '--retain-runs-age',
          '2',
          '--retention-sweep',
          '300',
          '--idempotency-ttl',
          '4',
        ],
        ...(url ? { store: url } : {}),
      });
    });
    after(async () => {
      await cluster?.destroy();
      await suiteStore.cleanup();
    });

    it('an Idempotency-Key expires after --idempotency-ttl, and its record is pruned', async () => {
      const key = { 'idempotency-key': `expiring-${label}` };
      const n = cluster.node(1);
      const to = async () => ((await cluster.waitForAgreedMaster()) === 1 ? 2 : 1);
      const first = await post(n, '/v1/cluster/actions/change_master', { node_uid: await to() }, key);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      await waitForRun(n, String(first.body.action_uid));
      await sleep(4200); // past the 4 s lifetime these nodes were given
      const store = await openStore(cluster.store);
      try {
        await eventually(async () =>
          (await store.range('/bosun/idempotency/')).kvs.length === 0 ? true : undefined,
        );
      } finally {
        await store.close();
      }
      const again = await post(n, '/v1/cluster/actions/change_master', { node_uid: await to() }, key);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.notEqual(again.body.action_uid, first.body.action_uid, 'an expired key starts a new run');
      await waitForRun(n, String(again.body.action_uid));
    });

    it('keeps at most --retain-runs runs, then prunes by age all but the latest status', async () => {
      const n = cluster.node(1);
      const uids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const m = await cluster.waitForAgreedMaster();
        const to = m === 1 ? 2 : 1;
        const res = await n.request<Task>('POST', '/v1/cluster/actions/change_master', { node_uid: to });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        uids.push(res.body.action_uid);
        await waitForRun(n, res.body.action_uid);
      }
      const kept = await eventually(async () => {
        const runs = (await n.get<{ actions: Task[] }>('/v1/actions')).body.actions;
        return runs.length <= 3 ? runs : undefined;
      });
      assert.ok(
        kept.every((r) => uids.slice(-3).includes(r.action_uid)),
        'the newest are kept',
      );
      // Past two seconds only the run /v1/cluster/actions/change_master shows remains.
      const left = await eventually(async () => {
        const runs = (await n.get<{ actions: Task[] }>('/v1/actions')).body.actions;
        return runs.length === 1 ? runs : undefined;
      }, 20_000);
      assert.equal(left[0]!.action_uid, uids.at(-1));
      assert.equal((await n.get('/v1/cluster/actions/change_master')).status, 200);
    });
  });
}
