/**
 * Metrics during a real hand-over and a real failover: three `bosun node` processes on each store,
 * /metrics scraped on every node before and after, checking that the figures move on the node that
 * should count them (and only there).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { ActionRun } from '../../src/actions/run.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { eventually, ProcessCluster, waitForRun, type ClusterNode } from '../helpers/process-cluster.js';
import { sample } from '../helpers/prometheus.js';

async function scrape(node: ClusterNode): Promise<string> {
  const res = await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  return res.text();
}

async function scrapeAll(c: ProcessCluster): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const n of c.responsive()) out.set(n.uid, await scrape(n));
  return out;
}

const sumOver = (m: Map<number, string>, name: string, labels: Record<string, string> = {}): number =>
  [...m.values()].reduce((s, text) => s + sample(text, name, labels), 0);

function suite(label: string, storeUrl: () => Promise<string | undefined>, cleanup: () => Promise<void>) {
  describe(`metrics on real nodes (${label})`, { timeout: 120_000 }, () => {
    let c: ProcessCluster | undefined;
    after(async () => {
      await c?.destroy();
      await cleanup();
    });

    it('a scrape during a hand-over and a failover shows the figures move', async () => {
      const url = await storeUrl();
      c = await ProcessCluster.start(url ? { store: url } : {});
      const master = await c.waitForAgreedMaster();
      const target = c.nodes.find((n) => n.uid !== master)!;
      // Every node renews its lease a third of a TTL after joining; wait for the first renewals.
      const before = await eventually(
        async () => {
          const all = await scrapeAll(c!);
          return [...all.values()].every((t) => sample(t, 'bosun_lease_renewal_seconds_count') > 0)
            ? all
            : undefined;
        },
        15_000,
        'every node to renew its lease',
      );
      for (const text of before.values())
        assert.ok(sample(text, 'bosun_store_operation_seconds_count') > 0, 'store calls are timed');

      // Scrape every node while the hand-over is in flight: /metrics answers throughout.
      const post = await c
        .node(master)
        .request<ActionRun>('POST', '/v1/cluster/actions/change_master', { node_uid: target.uid });
      assert.equal(post.status, 200);
      const during = await scrapeAll(c);
      assert.equal(during.size, 3);
      const run = await waitForRun(c.node(master), post.body.action_uid);
      assert.equal(run.status, 'completed', JSON.stringify(run));
      assert.equal(await c.waitForAgreedMaster(), target.uid);

      const afterHandOver = await scrapeAll(c);
      const newMaster = afterHandOver.get(target.uid)!;
      const handover = 'bosun_handover_duration_seconds_count';
      assert.equal(sample(newMaster, handover) - sample(before.get(target.uid)!, handover), 1);
      assert.equal(sumOver(afterHandOver, handover) - sumOver(before, handover), 1, 'counted on one node');
      assert.equal(sumOver(afterHandOver, 'bosun_no_master_window_seconds_count'), 1);
      const completed = { action: 'change_master', status: 'completed' };
      assert.equal(sumOver(afterHandOver, 'bosun_action_runs_total', completed), 1);
      assert.equal(sample(newMaster, 'bosun_action_runs_total', completed), 1);
      assert.equal(sample(newMaster, 'bosun_master_changes_total', { cause: 'requested' }), 1);
      assert.equal(sample(newMaster, 'bosun_master'), 1);
      assert.equal(sample(afterHandOver.get(master)!, 'bosun_master'), 0);
      assert.equal(sumOver(afterHandOver, 'bosun_master'), 1);
      const epochs = new Set([...afterHandOver.values()].map((t) => sample(t, 'bosun_master_epoch')));
      assert.equal(epochs.size, 1, 'every node sees the same epoch');
      assert.ok(
        sample(afterHandOver.get(master)!, 'bosun_http_requests_total', {
          method: 'POST',
          route: '/v1/cluster/actions/:action',
          status: '200',
        }) >= 1,
      );
      assert.ok(
        sumOver(afterHandOver, 'bosun_watch_lag_seconds_count') >
          sumOver(before, 'bosun_watch_lag_seconds_count'),
      );

      // Failover: kill the new master; the next one counts a failover.
      await target.signal('SIGKILL');
      const next = await c.waitForAgreedMaster({ not: target.uid });
      const afterFailover = await scrapeAll(c);
      assert.equal(sample(afterFailover.get(next)!, 'bosun_master_changes_total', { cause: 'failover' }), 1);
      assert.equal(sumOver(afterFailover, 'bosun_master_changes_total', { cause: 'failover' }), 1);
    });
  });
}

suite(
  'sqlite',
  async () => undefined,
  async () => undefined,
);

let etcd: EtcdCluster | undefined;
suite(
  'etcd',
  async () => {
    etcd = await EtcdCluster.start({ size: 3 });
    return etcd.url(`/bosun-metrics-${process.pid}`);
  },
  async () => {
    await etcd?.stop();
  },
);
