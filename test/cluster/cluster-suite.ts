/**
 * The multi-process integration suite: real `bosun node` processes, real HTTP, a real store. It is
 * defined once and run against each store backend (sqlite.test.ts, etcd.test.ts).
 */
import assert from 'node:assert/strict';
import { get as httpsGet } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, afterEach, before, describe, it, type TestContext } from 'node:test';

import type { ActionRun } from '../../src/actions/run.js';
import { basic } from '../helpers/in-process-node.js';
import {
  eventually,
  ProcessCluster,
  sleep,
  waitForRun,
  type ClusterNode,
  type HealthcheckBody,
  type NodesStatus,
} from '../helpers/process-cluster.js';

export interface StoreFixture {
  /** A fresh store URL for one cluster (a new key prefix or file each time). */
  url(): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

async function postChangeMaster(node: ClusterNode, target: number | string) {
  return node.request<ActionRun & { error_code?: string }>('POST', '/v1/cluster/actions/change_master', {
    node_uid: target,
  });
}

function otherThan(cluster: ProcessCluster, ...uids: number[]): ClusterNode {
  const n = cluster.nodes.find((x) => !uids.includes(x.uid));
  assert.ok(n, 'the cluster has a node outside the given uids');
  return n;
}

export function defineClusterSuite(label: string, fixture: StoreFixture): void {
  describe(`cluster (${label})`, { timeout: 300_000 }, () => {
    let cluster: ProcessCluster | undefined;

    const start = async (
      options: { handoverTimeoutMs?: number; leaseTtlMs?: number } = {},
    ): Promise<ProcessCluster> => {
      const url = await fixture.url();
      cluster = await ProcessCluster.start({ ...(url ? { store: url } : {}), ...options });
      return cluster;
    };

    afterEach(async () => {
      await cluster?.destroy();
      cluster = undefined;
    });
    after(() => fixture.cleanup());
    before(() => undefined);

    it('moves the master with change_master and every node agrees', async (t: TestContext) => {
      const c = await start();
      const master = await c.waitForAgreedMaster();
      const target = otherThan(c, master).uid;
      const via = otherThan(c, master, target);
      const t0 = performance.now();
      const res = await postChangeMaster(via, String(target));
      assert.equal(res.status, 200);
      assert.equal(typeof res.body.action_uid, 'string');
      assert.equal(res.body.name, 'change_master');
      const run = await waitForRun(via, res.body.action_uid);
      const elapsed = performance.now() - t0;
      assert.equal(run.status, 'completed', JSON.stringify(run));
      assert.equal(run.progress, 100);
      assert.equal(run.outcome?.old_master, String(master));
      assert.equal(run.outcome?.new_master, String(target));
      assert.equal(typeof run.outcome?.handover_ms, 'number');
      assert.equal(await c.waitForAgreedMaster(), target);
      for (const n of c.nodes) {
        const status = await n.get<NodesStatus>('/v1/nodes/status');
        assert.equal(
          status.body[String(target)]?.role,
          'master',
          `node ${n.uid} sees node ${target} as master`,
        );
        const latest = await n.get<ActionRun>('/v1/cluster/actions/change_master');
        assert.equal(latest.body.action_uid, res.body.action_uid);
        assert.equal(latest.body.status, 'completed');
      }
      t.diagnostic(
        `change_master POST to completed, as a polling client saw it: ${elapsed.toFixed(1)} ms; server-side hand-over ${String(run.outcome?.handover_ms)} ms`,
      );
    });

    it('elects a new master within about a lease TTL after SIGKILL of the master', async (t: TestContext) => {
      const c = await start();
      const master = await c.waitForAgreedMaster();
      const killedAt = performance.now();
      await c.node(master).signal('SIGKILL');
      const newMaster = await c.waitForAgreedMaster({ not: master });
      const failover = performance.now() - killedAt;
      assert.notEqual(newMaster, master);
      // The fast failover takes the master key first and revokes the dead node's lease just after,
      // so its record may still be listed for a moment.
      await eventually(
        async () => {
          const status = await c.node(newMaster).get<NodesStatus>('/v1/nodes/status');
          return status.body[String(master)]?.node_status === 'down' ? true : undefined;
        },
        10_000,
        'the killed master listed as down',
      );
      // The new master serves writes: a run submitted now completes.
      const res = await postChangeMaster(c.node(newMaster), newMaster);
      assert.equal(res.status, 200);
      assert.equal((await waitForRun(c.node(newMaster), res.body.action_uid)).status, 'completed');
      t.diagnostic(
        `failover after SIGKILL of the master: ${failover.toFixed(0)} ms (lease TTL ${c.leaseTtlMs} ms)`,
      );
    });

    it('replaces a master killed with SIGKILL and ends its in-flight run truthfully', async (t: TestContext) => {
      const c = await start({ handoverTimeoutMs: 30_000 });
      const master = await c.waitForAgreedMaster();
      const target = otherThan(c, master);
      const bystander = otherThan(c, master, target.uid);
      // Hold the target, so the run is certainly in flight (waiting for the take-over) at the kill.
      await target.signal('SIGSTOP');
      const res = await postChangeMaster(bystander, target.uid);
      assert.equal(res.status, 200);
      await eventually(async () => {
        const r = await bystander.get<ActionRun>(`/v1/actions/${res.body.action_uid}`);
        return r.body.phase === 'handing_over' ? true : undefined;
      });
      const killedAt = performance.now();
      await c.node(master).signal('SIGKILL');
      await target.signal('SIGCONT');
      const newMaster = await c.waitForAgreedMaster({ not: master });
      const failover = performance.now() - killedAt;
      assert.notEqual(newMaster, master);
      const run = await waitForRun(bystander, res.body.action_uid);
      // Either the target took over before the old lease ran out (completed), or an election
      // followed and the new master says what happened (failed). Never stuck, never lost.
      if (run.status === 'failed') {
        assert.match(run.error_code ?? '', /^(master_lost|handover_target_lost)$/);
        assert.match(run.error_message ?? '', new RegExp(`node ${master}`));
      } else {
        assert.equal(run.status, 'completed');
        assert.equal(run.outcome?.new_master, String(target.uid));
      }
      // The cluster works after the failover: a new run is accepted and completes.
      const next = await postChangeMaster(bystander, bystander.uid);
      assert.equal(next.status, 200);
      assert.equal((await waitForRun(bystander, next.body.action_uid)).status, 'completed');
      assert.equal(await c.waitForAgreedMaster(), bystander.uid);
      t.diagnostic(`new master after SIGKILL of a master that was handing over: ${failover.toFixed(0)} ms`);
    });

    it('fails the run cleanly when the target is killed mid-hand-over; the master stays', async () => {
      const c = await start({ handoverTimeoutMs: 30_000 });
      const master = await c.waitForAgreedMaster();
      const target = otherThan(c, master);
      await target.signal('SIGSTOP');
      const res = await postChangeMaster(c.node(master), target.uid);
      assert.equal(res.status, 200);
      await eventually(async () => {
        const r = await c.node(master).get<ActionRun>(`/v1/actions/${res.body.action_uid}`);
        return r.body.phase === 'handing_over' ? true : undefined;
      });
      await target.signal('SIGKILL');
      const run = await waitForRun(c.node(master), res.body.action_uid);
      assert.equal(run.status, 'failed');
      assert.equal(run.error_code, 'handover_target_lost');
      assert.match(run.error_message ?? '', new RegExp(`Node ${target.uid} left the cluster`));
      assert.equal(await c.waitForAgreedMaster(), master);
      const status = await c.node(master).get<NodesStatus>('/v1/nodes/status');
      assert.equal(status.body[String(target.uid)]?.node_status, 'down');
    });

    it('fails with handover_timeout when the target does not take over in time; the master stays', async () => {
      // The timeout is shorter than the lease TTL, so the paused target is still a live member.
      const c = await start({ handoverTimeoutMs: 400 });
      const master = await c.waitForAgreedMaster();
      const target = otherThan(c, master);
      await target.signal('SIGSTOP');
      const res = await postChangeMaster(c.node(master), target.uid);
      assert.equal(res.status, 200);
      const run = await waitForRun(c.node(master), res.body.action_uid);
      await target.signal('SIGCONT');
      assert.equal(run.status, 'failed');
      assert.equal(run.error_code, 'handover_timeout');
      assert.match(
        run.error_message ?? '',
        new RegExp(`Node ${target.uid} did not take over within 400 ms; node ${master} remains master`),
      );
      assert.equal(await c.waitForAgreedMaster(), master);
      // The withdrawn intent is gone: the resumed target does not take over later.
      await sleep(c.leaseTtlMs);
      assert.equal(await c.waitForAgreedMaster(), master);
    });

    it('says handing_over, not master, while its hand-over intent is out; resumes the claim only once withdrawn', async () => {
      const c = await start({ handoverTimeoutMs: 700 });
      const master = await c.waitForAgreedMaster();
      const target = otherThan(c, master);
      const observer = otherThan(c, master, target.uid);
      await target.signal('SIGSTOP');
      const res = await postChangeMaster(c.node(master), target.uid);
      assert.equal(res.status, 200);
      const seen: { self: HealthcheckBody; status: NodesStatus | undefined }[] = [];
      let done = false;
      const poll = (async () => {
        while (!done) {
          const [h, st] = await Promise.all([
            c.node(master).get<HealthcheckBody>('/v1/local/node/master_healthcheck'),
            observer.get<NodesStatus>('/v1/nodes/status'),
          ]);
          seen.push({ self: h.body, status: st.status === 200 ? st.body : undefined });
        }
      })();
      const run = await waitForRun(c.node(master), res.body.action_uid);
      done = true;
      await poll;
      await target.signal('SIGCONT');
      // Timed out, or the paused target's lease ran out first on a slow machine: withdrawn either way.
      assert.match(run.error_code ?? '', /^handover_(timeout|target_lost)$/);
      const handing = seen.filter((s) => s.self.master_status === 'handing_over');
      assert.ok(handing.length > 0, 'the master said it was handing over');
      for (const s of handing) assert.equal(s.self.is_master, false, 'handing over is not "master"');
      // Every node agrees: while the intent is out, nobody is called master.
      const observed = seen.filter((s) => s.status?.[String(master)]?.master_status === 'handing_over');
      assert.ok(observed.length > 0, 'the other nodes saw the hand-over');
      for (const s of observed) {
        assert.deepEqual(
          Object.values(s.status!).filter((n) => n.role === 'master'),
          [],
        );
      }
      // Withdrawn: the claim resumes (the run is failed only after the withdrawal succeeded).
      const after = await c.node(master).get<HealthcheckBody>('/v1/local/node/master_healthcheck');
      assert.equal(after.body.master_status, 'master', JSON.stringify(after.body));
      assert.equal(after.body.is_master, true);
    });

    it("a node restarted after kill -9 revokes its dead incarnation's registration and rejoins at once", async () => {
      // A TTL far longer than the wait below: the old registration would otherwise hold the uid.
      const c = await start({ leaseTtlMs: 30_000 });
      const master = await c.waitForAgreedMaster();
      const victim = otherThan(c, master);
      await victim.signal('SIGKILL');
      victim.start();
      await eventually(
        async () => {
          const st = await victim.get<NodesStatus>('/v1/nodes/status');
          return st.status === 200 && st.body[String(victim.uid)]?.node_status === 'active'
            ? true
            : undefined;
        },
        15_000,
        'the restarted node to serve, well before its old lease could expire',
      );
      assert.equal(await c.waitForAgreedMaster(), master);
    });

    it('replaces a paused (SIGSTOP) master; resumed, it steps down without writing', async () => {
      const c = await start();
      const master = await c.waitForAgreedMaster();
      const old = c.node(master);
      await old.signal('SIGSTOP');
      const newMaster = await c.waitForAgreedMaster({ not: master });
      await old.signal('SIGCONT');
      // Resumed, the old master finds its lease in doubt, fences itself and rejoins as a slave.
      await eventually(async () => {
        const st = await old.get<NodesStatus>('/v1/nodes/status');
        return st.status === 200 &&
          st.body[String(master)]?.role === 'slave' &&
          st.body[String(master)]?.node_status === 'active'
          ? true
          : undefined;
      });
      assert.equal(await c.waitForAgreedMaster(), newMaster);
      const res = await postChangeMaster(old, newMaster);
      assert.equal(res.status, 200);
      const run = await waitForRun(old, res.body.action_uid);
      assert.equal(run.status, 'completed');
      assert.equal(run.node_uid, String(newMaster), 'only the new master executes runs');
    });

    it('keeps users, action history and cluster identity across a restart of every node', async () => {
      const c = await start();
      const master = await c.waitForAgreedMaster();
      const n1 = c.nodes[0]!;
      const created = await n1.request<{ uid: number }>('POST', '/v1/users', {
        email: 'ops@example.com',
        password: 'ops-password-1',
        role: 'cluster_viewer',
      });
      assert.equal(created.status, 200);
      const target = otherThan(c, master).uid;
      const res = await postChangeMaster(n1, target);
      const run = await waitForRun(n1, res.body.action_uid);
      assert.equal(run.status, 'completed');
      const before = await n1.get<{ uid: string }>('/v1/cluster');

      // A clean stop of every node, then SIGKILL of every node: both keep all state.
      for (const how of ['SIGTERM', 'SIGKILL'] as const) {
        await Promise.all(c.nodes.map((n) => n.signal(how)));
        for (const n of c.nodes) n.start();
        await c.waitForAgreedMaster();
        const again = await n1.get<{ uid: string }>('/v1/cluster');
        assert.equal(again.body.uid, before.body.uid, `cluster identity survives ${how}`);
        const history = await n1.get<{ actions: ActionRun[] }>('/v1/actions');
        assert.ok(
          history.body.actions.some((a) => a.action_uid === res.body.action_uid && a.status === 'completed'),
        );
        const latest = await c.nodes[2]!.get<ActionRun>('/v1/cluster/actions/change_master');
        assert.equal(latest.body.action_uid, res.body.action_uid);
        const asViewer = await c.nodes[1]!.request('GET', '/v1/cluster/actions', undefined, {
          authorization: basic('ops@example.com', 'ops-password-1'),
        });
        assert.equal(asViewer.status, 200, `the created user still authenticates after ${how}`);
      }
    });

    it('lets exactly one of many concurrent POSTs across nodes win while a run is in flight', async () => {
      const c = await start({ handoverTimeoutMs: 30_000 });
      const master = await c.waitForAgreedMaster();
      const target = otherThan(c, master);
      await target.signal('SIGSTOP');
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          postChangeMaster(c.nodes.filter((n) => n !== target)[i % 2]!, target.uid),
        ),
      );
      const codes = responses.map((r) => r.status).sort();
      assert.deepEqual(
        codes,
        [200, ...Array<number>(11).fill(409)],
        JSON.stringify(responses.map((r) => r.body)),
      );
      for (const r of responses.filter((x) => x.status === 409)) {
        assert.equal(r.body.error_code, 'action_in_progress');
      }
      await target.signal('SIGCONT');
      const winner = responses.find((r) => r.status === 200)!;
      assert.equal((await waitForRun(c.node(master), winner.body.action_uid)).status, 'completed');
    });

    it('answers concurrent POSTs only with 200 or 409 and never runs two at once', async () => {
      const c = await start();
      await c.waitForAgreedMaster();
      const accepted: string[] = [];
      for (let round = 0; round < 4; round++) {
        const target = c.nodes[round % c.nodes.length]!.uid;
        const responses = await Promise.all(
          Array.from({ length: 9 }, (_, i) => postChangeMaster(c.nodes[i % c.nodes.length]!, target)),
        );
        for (const r of responses) assert.ok(r.status === 200 || r.status === 409, `status ${r.status}`);
        const wins = responses.filter((r) => r.status === 200);
        assert.ok(wins.length >= 1);
        accepted.push(...wins.map((r) => r.body.action_uid));
        for (const w of wins) await waitForRun(c.nodes[0]!, w.body.action_uid);
      }
      const { body } = await c.nodes[0]!.get<{ actions: ActionRun[] }>('/v1/actions');
      const runs = body.actions.filter((a) => accepted.includes(a.action_uid));
      assert.equal(runs.length, accepted.length);
      const spans = runs
        .map((r) => [Date.parse(r.start_time!), Date.parse(r.end_time!)] as const)
        .sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) {
        assert.ok(spans[i]![0] >= spans[i - 1]![1], 'runs of change_master never overlap');
      }
    });

    it('survives bad input on every node and serves HTTPS with a kept certificate', async () => {
      const c = await start();
      const n = c.nodes[1]!;
      const bad = [
        await n.request('POST', '/v1/cluster/actions/change_master', '{"node_uid":'),
        await n.request('POST', '/v1/cluster/actions/change_master', { node_uid: 'two' }),
        await n.request('POST', '/v1/cluster/actions/change_master', { node_uid: 99 }),
        await n.request('POST', '/v1/cluster/actions/change_master', 'x'.repeat(2 * 1024 * 1024)),
        await n.request('GET', '/v1/cluster/actions', undefined, { authorization: 'Basic !!!' }),
      ];
      assert.deepEqual(
        bad.map((r) => r.status),
        [400, 400, 404, 413, 401],
      );
      for (const r of bad)
        assert.deepEqual(Object.keys(r.body as object).sort(), ['description', 'error_code']);
      assert.equal((await n.get('/v1/cluster')).status, 200);

      const fingerprint = async (): Promise<string> =>
        new Promise((resolve, reject) => {
          const req = httpsGet(
            {
              host: '127.0.0.1',
              port: n.httpsPort,
              path: '/v1/cluster',
              rejectUnauthorized: false,
              headers: { authorization: basic('admin@test.local', 'admin-password-1') },
            },
            (res) => {
              const cert = (res.socket as TLSSocket).getPeerCertificate();
              res.resume();
              res.on('end', () =>
                res.statusCode === 200
                  ? resolve(cert.fingerprint256)
                  : reject(new Error(`HTTPS ${res.statusCode}`)),
              );
            },
          );
          req.on('error', reject);
        });
      const first = await fingerprint();
      await n.signal('SIGTERM');
      n.start();
      await eventually(async () => ((await n.get('/v1/cluster')).status === 200 ? true : undefined));
      assert.equal(await fingerprint(), first, 'the self-signed certificate is kept across restarts');
      await sleep(10);
    });
  });
}
