/**
 * Metrics and the event log during a real hand-over, a real failover and a graceful stop: three
 * `bosun node` processes on each store. /metrics is scraped on every node before and after, checking
 * that the figures move on the node that should count them (and only there); /v1/logs must show each
 * fact exactly once, though three nodes see it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { ActionRun } from '../../src/actions/run.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { eventually, ProcessCluster, waitForRun, type ClusterNode } from '../helpers/process-cluster.js';
import { sample } from '../helpers/prometheus.js';

interface LogEntry {
  readonly time: string;
  readonly type: string;
  readonly severity: string;
  readonly node_uid?: number;
  readonly action_uid?: string;
  readonly [field: string]: unknown;
}

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
  describe(`metrics and the event log on real nodes (${label})`, { timeout: 120_000 }, () => {
    let c: ProcessCluster | undefined;
    after(async () => {
      await c?.destroy();
      await cleanup();
    });

    it('a hand-over, a failover and a graceful stop move the figures and are logged once each', async () => {
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

      // The hand-over is in the event log (entries are written in batches, a moment after the fact).
      await eventually(
        async () => {
          const res = await c!.node(master).get<LogEntry[]>('/v1/logs');
          const es = res.status === 200 ? res.body : [];
          return es.some((e) => e.type === 'action_completed' && e.action_uid === run.action_uid) &&
            es.some((e) => e.type === 'master_changed' && e.node_uid === target.uid)
            ? true
            : undefined;
        },
        15_000,
        'the hand-over in the event log',
      );

      // Failover: kill the new master; the next one counts it, by the fast path (the process is gone on
      // this host) or, if the lease ran out first, as a plain failover.
      await target.signal('SIGKILL');
      const next = await c.waitForAgreedMaster({ not: target.uid });
      const afterFailover = await scrapeAll(c);
      const causeOf = (text: string) =>
        (['failover', 'fast_path'] as const).filter(
          (cause) => sample(text, 'bosun_master_changes_total', { cause }) === 1,
        );
      const failoverCause = causeOf(afterFailover.get(next)!);
      assert.equal(failoverCause.length, 1, 'the new master counted one failover');
      for (const cause of ['failover', 'fast_path'])
        assert.equal(
          sumOver(afterFailover, 'bosun_master_changes_total', { cause }),
          cause === failoverCause[0] ? 1 : 0,
        );

      // A graceful stop of the third node: it says it left; nobody reports it down.
      const third = c.nodes.find((n) => n.uid !== next && n.uid !== target.uid)!;
      await third.signal('SIGTERM');
      const reader = c.node(next);
      const entries = await eventually(
        async () => {
          const res = await reader.get<LogEntry[]>('/v1/logs');
          const es = res.status === 200 ? res.body : [];
          const has = (type: string, uid: number) => es.some((e) => e.type === type && e.node_uid === uid);
          return has('cluster_node_down', target.uid) && has('cluster_node_left', third.uid) ? es : undefined;
        },
        20_000,
        'the failover and the graceful stop in the event log',
      );
      const count = (pred: (e: LogEntry) => boolean) => entries.filter(pred).length;
      for (const uid of [1, 2, 3])
        assert.equal(
          count((e) => e.type === 'cluster_node_joined' && e.node_uid === uid),
          1,
          `node ${uid} joined once`,
        );
      for (const type of ['action_requested', 'action_started', 'action_completed'])
        assert.equal(
          count((e) => e.type === type && e.action_uid === run.action_uid),
          1,
          `${type} once: ${JSON.stringify(entries.map((e) => [e.type, e.node_uid, e.action_uid, e.cause]))}`,
        );
      const requested = entries.find((e) => e.type === 'action_requested')!;
      assert.equal(requested.user, 'admin@test.local');
      assert.equal(requested.request_id !== undefined, true);
      const changes = entries.filter((e) => e.type === 'master_changed');
      assert.deepEqual(
        changes.map((e) => [e.node_uid, e.cause]),
        [
          [master, 'initial'],
          [target.uid, 'requested'],
          [next, failoverCause[0]],
        ],
      );
      assert.deepEqual(
        changes.map((e) => e.epoch),
        [1, 2, 3],
      );
      assert.equal(changes[1]!.previous_master, master);
      assert.equal(changes[2]!.previous_master, target.uid);
      assert.equal(
        count((e) => e.type === 'cluster_node_down'),
        1,
        'only the killed node went down, once',
      );
      assert.equal(
        count((e) => e.type === 'cluster_node_left'),
        1,
      );
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
