/**
 * The fast failover (src/cluster/failure-detector.ts) against real `bosun node` processes on a real
 * store, defined once and run on each backend (fast-failover-sqlite.test.ts, fast-failover-etcd.test.ts).
 *
 * No test bounds a wall-clock time. The order of events is read from the store instead: a master
 * record carrying `forced` was written by a transaction that compared the dead master's token, which
 * only holds while the dead master's key, bound to its lease, still exists; so that master was
 * replaced before its lease ran out. A record without `forced` came from an ordinary election, which
 * needs the old key gone: after the lease.
 */
import assert from 'node:assert/strict';
import { afterEach, after, describe, it, type TestContext } from 'node:test';

import type { ActionRun } from '../../src/actions/run.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import type { MasterRecord } from '../../src/cluster/keys.js';
import { openStore } from '../../src/store/open-store.js';
import type { KeyValue } from '../../src/store/types.js';
import {
  eventually,
  MasterSampler,
  ProcessCluster,
  sleep,
  waitForRun,
  type ClusterNode,
  type NodesStatus,
  type ProcessClusterOptions,
} from '../helpers/process-cluster.js';

export interface FastFailoverFixture {
  /** A fresh store URL for one cluster (a new key prefix or file each time). */
  url(): Promise<string | undefined>;
  cleanup(): Promise<void>;
  /** Extra tests that need this backend (e.g. a network partition from etcd). */
  readonly extra?: (ctx: SuiteContext) => void;
}

export interface SuiteContext {
  start(options?: ProcessClusterOptions): Promise<ProcessCluster>;
  masterKv(c: ProcessCluster): Promise<KeyValue | undefined>;
  track(sampler: MasterSampler): MasterSampler;
}

const keys = new ClusterKeys('/bosun/');

async function postChangeMaster(node: ClusterNode, target: number) {
  return node.request<ActionRun>('POST', '/v1/cluster/actions/change_master', { node_uid: target });
}

function record(kv: KeyValue | undefined): MasterRecord {
  assert.ok(kv, 'a master key exists');
  return JSON.parse(kv.value) as MasterRecord;
}

export function defineFastFailoverSuite(label: string, fixture: FastFailoverFixture): void {
  describe(`fast failover (${label})`, { timeout: 300_000 }, () => {
    let cluster: ProcessCluster | undefined;
    let sampler: MasterSampler | undefined;

    const ctx: SuiteContext = {
      start: async (options = {}) => {
        const url = await fixture.url();
        cluster = await ProcessCluster.start({ ...(url ? { store: url } : {}), ...options });
        return cluster;
      },
      // Read straight from the store, as the nodes see it.
      masterKv: async (c) => {
        const store = await openStore(c.store);
        try {
          return await store.get(keys.master.key);
        } finally {
          await store.close();
        }
      },
      track: (s) => (sampler = s),
    };

    afterEach(async () => {
      await sampler?.stop();
      sampler = undefined;
      await cluster?.destroy();
      cluster = undefined;
    });
    after(() => fixture.cleanup());

    for (const [mode, signal] of [
      ['on', 'process_gone'],
      ['port', 'port_refused'],
    ] as const) {
      it(`replaces a master killed with SIGKILL before its lease runs out (${mode}: ${signal})`, async (t: TestContext) => {
        const c = await ctx.start({ leaseTtlMs: 3000, fastFailover: mode });
        const master = await c.waitForAgreedMaster();
        const before = await ctx.masterKv(c);
        assert.equal(record(before).node_uid, master);
        const s = ctx.track(new MasterSampler(c));
        // The port signal counts only for observers that once connected to this master (a refusal
        // must be a change): give their probes (every 100 ms) time to connect on a loaded machine,
        // or the kill is waited out for the lease, which is right but not what this test is about.
        if (mode === 'port') await sleep(1000);
        await c.node(master).signal('SIGKILL');
        const newMaster = await c.waitForAgreedMaster({ not: master });
        const after = await ctx.masterKv(c);
        const now = record(after);
        assert.equal(now.node_uid, newMaster);
        // Written by the forced take-over, whose compare held the dead master's token: its key (and so
        // its lease) was still there. The epoch moved on by one.
        assert.deepEqual(now.forced, { signal, from_token: before!.modRevision });
        assert.equal(now.epoch, record(before).epoch + 1);
        assert.equal(now.previous?.node_uid, master);
        // The winner revoked the dead master's lease: its liveness record is gone at once.
        const status = await c.node(newMaster).get<NodesStatus>('/v1/nodes/status');
        assert.equal(status.body[String(master)]?.node_status, 'down');
        // The new master serves writes.
        const res = await postChangeMaster(c.node(newMaster), newMaster);
        assert.equal(res.status, 200);
        assert.equal((await waitForRun(c.node(newMaster), res.body.action_uid)).status, 'completed');
        await s.stop();
        assert.deepEqual(s.violations, []);
        t.diagnostic(`node ${master} killed; node ${newMaster} took over on ${signal}`);
      });
    }

    it('does not replace a master paused for less than a TTL; it resumes as master', async () => {
      const c = await ctx.start({ leaseTtlMs: 3000 });
      const master = await c.waitForAgreedMaster();
      const before = await ctx.masterKv(c);
      const s = ctx.track(new MasterSampler(c));
      // A third of the TTL: many times the detector's refusal window and probe interval.
      await c.node(master).signal('SIGSTOP');
      await sleep(c.leaseTtlMs / 3);
      await c.node(master).signal('SIGCONT');
      assert.equal(await c.waitForAgreedMaster(), master);
      // The very same term: same token, no take-over of any kind.
      const after = await ctx.masterKv(c);
      assert.equal(after?.modRevision, before?.modRevision);
      const res = await postChangeMaster(c.node(master), master);
      assert.equal(res.status, 200);
      const run = await waitForRun(c.node(master), res.body.action_uid);
      assert.equal(run.status, 'completed');
      assert.equal(run.node_uid, String(master));
      await s.stop();
      assert.deepEqual(s.violations, []);
      assert.equal(s.maxConcurrentMasters, 1);
    });

    it('replaces a master paused past its TTL only after the lease; resumed, it never writes', async () => {
      const c = await ctx.start();
      const master = await c.waitForAgreedMaster();
      const before = await ctx.masterKv(c);
      const old = c.node(master);
      const s = ctx.track(new MasterSampler(c));
      await old.signal('SIGSTOP');
      const newMaster = await c.waitForAgreedMaster({ not: master });
      const now = record(await ctx.masterKv(c));
      // An ordinary election: it needed the old key gone, so the old lease had run out.
      assert.equal(now.forced, undefined, 'no fast path for a paused process');
      assert.equal(now.epoch, record(before).epoch + 1);
      await old.signal('SIGCONT');
      await eventually(async () => {
        const st = await old.get<NodesStatus>('/v1/nodes/status');
        return st.status === 200 && st.body[String(master)]?.role === 'slave' ? true : undefined;
      });
      // The resumed old master wrote nothing as master: the term it would write under is the new one.
      const after = await ctx.masterKv(c);
      assert.equal(record(after).node_uid, newMaster);
      assert.equal(record(after).epoch, now.epoch);
      const res = await postChangeMaster(old, newMaster);
      assert.equal(res.status, 200);
      const run = await waitForRun(old, res.body.action_uid);
      assert.equal(run.status, 'completed');
      assert.equal(run.node_uid, String(newMaster), 'only the new master executes runs');
      await s.stop();
      assert.deepEqual(s.violations, []);
    });

    it('ends the run in flight truthfully when the master is killed mid-change_master', async (t: TestContext) => {
      const c = await ctx.start({ leaseTtlMs: 3000, handoverTimeoutMs: 30_000 });
      const master = await c.waitForAgreedMaster();
      const target = c.nodes.find((n) => n.uid !== master)!;
      const bystander = c.nodes.find((n) => n.uid !== master && n !== target)!;
      // Hold the target, so the run is certainly in flight (waiting for the take-over) at the kill.
      await target.signal('SIGSTOP');
      const res = await postChangeMaster(bystander, target.uid);
      assert.equal(res.status, 200);
      await eventually(async () => {
        const r = await bystander.get<ActionRun>(`/v1/actions/${res.body.action_uid}`);
        return r.body.phase === 'handing_over' ? true : undefined;
      });
      const before = await ctx.masterKv(c);
      await c.node(master).signal('SIGKILL');
      // The bystander is the only live observer: its certain signal alone suffices.
      assert.equal(await c.waitForAgreedMaster({ not: master }), bystander.uid);
      assert.deepEqual(record(await ctx.masterKv(c)).forced, {
        signal: 'process_gone',
        from_token: before!.modRevision,
      });
      await target.signal('SIGCONT');
      const run = await waitForRun(bystander, res.body.action_uid);
      assert.equal(run.status, 'failed', JSON.stringify(run));
      assert.equal(run.error_code, 'master_lost');
      assert.match(run.error_message ?? '', new RegExp(`[Mm]aster node ${master} was lost`));
      // The resumed target finds the intent void (its from_token is fenced out) and stays a slave.
      assert.equal(await c.waitForAgreedMaster(), bystander.uid);
      t.diagnostic(`run ended ${run.status}: ${run.error_message}`);
    });

    fixture.extra?.(ctx);
  });
}
