/**
 * Faults of the distributed store, each against real `bosun node` processes on a real 3-member etcd:
 * the etcd leader killed mid-hand-over, quorum lost and regained, and one node cut off from etcd by
 * a TCP proxy. Throughout, a sampler asks every node whether it acts as master: never two at once.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it, type TestContext } from 'node:test';

import type { ActionRun } from '../../src/actions/run.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import {
  eventually,
  MasterSampler,
  ProcessCluster,
  sleep,
  waitForRun,
  type ClusterNode,
  type HealthcheckBody,
  type NodesStatus,
} from '../helpers/process-cluster.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const terminal = new Set(['completed', 'failed', 'cancelled']);

async function healthcheck(node: ClusterNode): Promise<HealthcheckBody> {
  const res = await node.get<HealthcheckBody>('/v1/local/node/master_healthcheck');
  assert.equal(res.status, 200);
  return res.body;
}

describe('etcd faults', { timeout: 600_000 }, () => {
  let etcd: EtcdCluster;
  let cluster: ProcessCluster | undefined;
  let sampler: MasterSampler | undefined;
  let proxy: TcpProxy | undefined;
  let prefixes = 0;
  const prefix = (): string => `/bosun-fault-${process.pid}-${++prefixes}`;

  before(async () => {
    etcd = await EtcdCluster.start({ size: 3 });
  });

  afterEach(async () => {
    await sampler?.stop();
    sampler = undefined;
    await cluster?.destroy();
    cluster = undefined;
    await proxy?.close();
    proxy = undefined;
    for (const m of etcd.members) {
      if (m.paused) await m.resume();
      if (!m.running) await m.start();
    }
    await etcd.waitHealthy();
  });

  after(() => etcd.stop());

  it('ends a change_master cleanly when the etcd leader is killed mid-way, never with two masters', async (t: TestContext) => {
    cluster = await ProcessCluster.start({ store: etcd.url(prefix()) });
    const master = await cluster.waitForAgreedMaster();
    const target = cluster.nodes.find((n) => n.uid !== master)!;
    sampler = new MasterSampler(cluster);
    const leader = await etcd.leader();
    const post = async (): Promise<ActionRun> => {
      for (;;) {
        const res = await target.request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
          node_uid: target.uid,
        });
        if (res.status === 200) return res.body;
        // The leader's death may make this very request answer 503; the client retries, as it should.
        assert.equal(res.status, 503, JSON.stringify(res.body));
        await sleep(100);
      }
    };
    const [submitted] = await Promise.all([post(), leader.kill('SIGKILL')]);
    const run = await waitForRun(target, submitted.action_uid);
    assert.ok(
      run.status === 'completed' ||
        (run.status === 'failed' &&
          /^(master_lost|handover_timeout|handover_target_lost)$/.test(run.error_code ?? '')),
      JSON.stringify(run),
    );
    const finalMaster = await cluster.waitForAgreedMaster();
    await sampler.stop();
    assert.deepEqual(sampler.violations, []);
    t.diagnostic(
      `etcd leader killed during change_master: run ${run.status}${run.error_code ? ` (${run.error_code})` : ''}; ` +
        `master ${master} -> ${finalMaster}; ${sampler.samples} samples, at most ${sampler.maxConcurrentMasters} master at once`,
    );
  });

  it('on loss of quorum, fences every master, answers 503 at once, and resumes with no run stuck', async (t: TestContext) => {
    cluster = await ProcessCluster.start({ store: etcd.url(prefix()), handoverTimeoutMs: 60_000 });
    const c = cluster;
    const master = await c.waitForAgreedMaster();
    const target = c.nodes.find((n) => n.uid !== master)!;
    const observer = c.nodes.find((n) => n.uid !== master && n !== target)!;
    // A run in flight across the outage: the target is held, so it waits for the take-over.
    await target.signal('SIGSTOP');
    const res = await observer.request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
      node_uid: target.uid,
    });
    assert.equal(res.status, 200);
    await eventually(async () => {
      const r = await observer.get<ActionRun>(`/v1/actions/${res.body.action_uid}`);
      return r.body.phase === 'handing_over' ? true : undefined;
    });
    sampler = new MasterSampler(c);

    const [a, b] = etcd.members.slice(0, 2);
    await Promise.all([a!.kill('SIGKILL'), b!.kill('SIGKILL')]);
    const lostAt = Date.now();
    // Every node stops acting as master: it cannot renew its lease, so it fences itself a third of a
    // TTL before the lease could run out. (etcd's last leader renews leases for up to an election
    // timeout after the quorum is gone, and a new leader restores every lease's full TTL, so the
    // fence falls later than a TTL after the loss, never later than the lease's expiry.)
    await eventually(async () => {
      const checks = await Promise.all(c.responsive().map((n) => healthcheck(n)));
      return checks.every((h) => !h.is_master && !h.store_reachable) ? true : undefined;
    }, 30_000);
    const fencedAfter = Date.now() - lostAt;
    // Reads it cannot vouch for and all writes: 503 with an error body, promptly (no hang).
    for (const n of c.responsive()) {
      const started = Date.now();
      const read = await n.get<{ error_code: string; description: string }>('/v1/cluster/actions');
      const write = await n.request<{ error_code: string }>('POST', '/v1/cluster/actions/change_master', {
        node_uid: n.uid,
      });
      assert.equal(read.status, 503);
      assert.equal(read.body.error_code, 'store_unavailable');
      assert.equal(write.status, 503);
      assert.equal(write.body.error_code, 'store_unavailable');
      t.diagnostic(`node ${n.uid}: a read and a write answered 503 within ${Date.now() - started} ms`);
    }

    await Promise.all([a!.start(), b!.start()]);
    await target.signal('SIGCONT');
    const newMaster = await c.waitForAgreedMaster({ timeoutMs: 60_000 });
    const run = await waitForRun(observer, res.body.action_uid, 60_000);
    assert.ok(terminal.has(run.status), 'the run in flight across the outage ended');
    const next = await observer.request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
      node_uid: observer.uid,
    });
    assert.equal(next.status, 200);
    assert.equal((await waitForRun(observer, next.body.action_uid)).status, 'completed');
    await sampler.stop();
    assert.deepEqual(sampler.violations, []);
    t.diagnostic(
      `quorum lost: every node stopped acting as master within ${fencedAfter} ms; regained: master ${master} -> ${newMaster}; the in-flight run ended ${run.status}` +
        `${run.error_code ? ` (${run.error_code}: ${run.error_message})` : ''}`,
    );
  });

  for (const direction of ['both', 'downstream'] as const) {
    it(`cuts one node off from etcd (${direction === 'both' ? 'partition' : 'replies blackholed'}): it loses mastership cleanly and rejoins`, async (t: TestContext) => {
      const member = etcd.members[0]!;
      const [host, port] = member.endpoint.split(':');
      proxy = await TcpProxy.start({ host: host!, port: Number(port) });
      const p = prefix();
      const proxied = `etcd://${proxy.endpoint}?prefix=${encodeURIComponent(p)}`;
      cluster = await ProcessCluster.start({
        store: etcd.url(p),
        storeFor: (uid) => (uid === 1 ? proxied : undefined),
      });
      const c = cluster;
      const cut = c.node(1);
      let master = await c.waitForAgreedMaster();
      if (master !== 1) {
        const res = await cut.request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
          node_uid: 1,
        });
        assert.equal((await waitForRun(cut, res.body.action_uid)).status, 'completed');
        master = await c.waitForAgreedMaster();
      }
      assert.equal(master, 1);
      sampler = new MasterSampler(c);

      proxy.pause(direction);
      const cutAt = Date.now();
      const others = c.nodes.filter((n) => n !== cut);
      const newMaster = await eventually(async () => {
        const st = await others[0]!.get<NodesStatus>('/v1/nodes/status');
        const m = Object.entries(st.body).find(([, s]) => s.role === 'master');
        return m && m[0] !== '1' ? Number(m[0]) : undefined;
      }, 30_000);
      const failover = Date.now() - cutAt;
      const h = await healthcheck(cut);
      assert.equal(h.is_master, false, 'the cut-off node no longer acts as master');

      proxy.resume(direction);
      proxy.closeAll();
      // It rejoins as a member (slave) and serves again.
      await eventually(async () => {
        const hc = await healthcheck(cut);
        if (!hc.store_reachable) return undefined;
        const st = await cut.get<NodesStatus>('/v1/nodes/status');
        return st.status === 200 && st.body['1']?.node_status === 'active' && st.body['1']?.role === 'slave'
          ? true
          : undefined;
      }, 60_000);
      assert.equal(await c.waitForAgreedMaster(), newMaster);
      await sampler.stop();
      assert.deepEqual(sampler.violations, []);
      t.diagnostic(
        `node 1 cut off (${direction}): node ${newMaster} took over after ${failover} ms; node 1 rejoined as a slave`,
      );
    });
  }
});
