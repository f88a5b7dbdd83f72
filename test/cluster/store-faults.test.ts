/**
 * Availability and truthfulness under store partitions (issue: "never headless longer than the
 * store, never a stale read"), each against real `bosun node` processes on a real 3-member etcd, with
 * one node reaching etcd only through a TCP proxy:
 * - a half-deaf master (its requests reach etcd, the replies are dropped) gives its lease up once it
 *   fences itself, so another node takes over while the partition lasts;
 * - a node coming back from a partition answers no read from its old view: 503 until it has caught
 *   up, then the truth, never a 404 for a run accepted while it was away;
 * - a node cut off while its lease still runs never answers a 404 from its view either.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import type { ActionRun } from '../../src/actions/run.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import {
  eventually,
  ProcessCluster,
  waitForRun,
  type ClusterNode,
  type HealthcheckBody,
  type NodesStatus,
} from '../helpers/process-cluster.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

async function healthcheck(node: ClusterNode): Promise<HealthcheckBody> {
  const res = await node.get<HealthcheckBody>('/v1/local/node/master_healthcheck');
  assert.equal(res.status, 200);
  return res.body;
}

async function masterSeenBy(node: ClusterNode): Promise<number | undefined> {
  const st = await node.get<NodesStatus>('/v1/nodes/status');
  if (st.status !== 200) return undefined;
  const m = Object.entries(st.body).find(([, s]) => s.role === 'master');
  return m ? Number(m[0]) : undefined;
}

describe('store partitions', { timeout: 600_000 }, () => {
  let etcd: EtcdCluster;
  let cluster: ProcessCluster | undefined;
  let proxy: TcpProxy | undefined;
  let prefixes = 0;

  before(async () => {
    etcd = await EtcdCluster.start({ size: 3 });
  });
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
    await proxy?.close();
    proxy = undefined;
  });
  after(() => etcd.stop());

  /** A cluster whose node 1 reaches etcd (one member) only through `proxy`. */
  async function startProxied(leaseTtlMs: number): Promise<ProcessCluster> {
    const member = etcd.members[0]!;
    proxy = await TcpProxy.start({ port: member.clientPort });
    const p = `/bosun-partition-${process.pid}-${++prefixes}`;
    cluster = await ProcessCluster.start({
      store: etcd.url(p),
      storeFor: (uid) =>
        uid === 1 ? `etcd://${proxy!.endpoint}?prefix=${encodeURIComponent(p)}` : undefined,
      leaseTtlMs,
    });
    return cluster;
  }

  async function makeMaster(c: ProcessCluster, uid: number): Promise<void> {
    if ((await c.waitForAgreedMaster()) === uid) return;
    const res = await c.node(uid).request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
      node_uid: uid,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await waitForRun(c.node(uid), res.body.action_uid)).status, 'completed');
    assert.equal(await c.waitForAgreedMaster(), uid);
  }

  it('a half-deaf master that fenced itself gives its lease up: another node takes over while the partition lasts', async () => {
    // A fenced master stops renewing: its lease lapses within a TTL of the fence, or at once when its
    // revoke still gets through (its connection carries requests until gRPC's keep-alive drops it).
    const ttl = 3000;
    const c = await startProxied(ttl);
    await makeMaster(c, 1);
    const cut = c.node(1);
    proxy!.pause('downstream');
    await eventually(
      async () => ((await healthcheck(cut)).master_status === 'fenced' ? true : undefined),
      30_000,
      'the cut-off master to say it fenced itself',
    );
    const h = await healthcheck(cut);
    assert.equal(h.is_master, false);
    const others = c.nodes.filter((n) => n !== cut);
    const next = await eventually(
      async () => {
        const m = await masterSeenBy(others[0]!);
        return m !== undefined && m !== 1 ? m : undefined;
      },
      ttl + 5000,
      'another node to become master while the partition lasts',
    );
    assert.notEqual(next, 1);
    // Still cut off: it says it is not master.
    assert.equal((await healthcheck(cut)).is_master, false);
    proxy!.resume('downstream');
    proxy!.closeAll();
    assert.equal(await c.waitForAgreedMaster({ timeoutMs: 60_000 }), next);
  });

  it('a node cut off from the store answers no 404 from its view while its lease still runs', async () => {
    // A long TTL: the cut-off node's lease stays "safe" for seconds, during which its view cannot
    // see the run accepted elsewhere. Its answers must be the truth (the store confirms an absence)
    // or 503, never a 404 made up from what it last heard.
    const c = await startProxied(4000);
    await makeMaster(c, 2);
    const cut = c.node(1);
    proxy!.pause('both');
    const res = await c.node(3).request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
      node_uid: 3,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) {
      answers.push((await cut.get<ActionRun>(`/v1/actions/${res.body.action_uid}`)).status);
      answers.push((await cut.get<ActionRun>(`/v2/actions/${res.body.action_uid}`)).status);
      await new Promise((r) => setTimeout(r, 100));
    }
    proxy!.resume('both');
    assert.deepEqual(
      answers.filter((s) => s !== 503 && s !== 200),
      [],
      `answers while cut off: ${answers.join(' ')}`,
    );
  });

  it('a node back from a partition answers 503 until its view caught up, never a stale 404', async () => {
    const c = await startProxied(1500);
    await makeMaster(c, 2);
    const cut = c.node(1);
    proxy!.pause('both');
    // Long enough for its lease to run out on the server; meanwhile the others accept runs.
    const accepted: string[] = [];
    const deadline = Date.now() + 3 * c.leaseTtlMs;
    while (Date.now() < deadline || accepted.length < 3) {
      const res = await c.node(3).request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
        node_uid: accepted.length % 2 === 0 ? 3 : 2,
      });
      if (res.status === 200) {
        accepted.push(res.body.action_uid);
        await waitForRun(c.node(3), res.body.action_uid);
      }
    }
    const last = accepted.at(-1)!;
    // Heal by cutting every connection (what was in flight is lost, as after a real partition).
    proxy!.closeAll({ reset: true });
    proxy!.resume('both');
    const answers: number[] = [];
    await eventually(
      async () => {
        const res = await cut.get<ActionRun>(`/v1/actions/${last}`);
        answers.push(res.status);
        return res.status === 200 ? true : undefined;
      },
      60_000,
      'the node to serve the run accepted while it was cut off',
    );
    assert.deepEqual(
      answers.filter((s) => s !== 503 && s !== 200),
      [],
      `answers after the heal: ${answers.join(' ')}`,
    );
  });
});
