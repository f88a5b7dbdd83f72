/**
 * Scale: GET /v1/actions with 100, 1,000 and 10,000 retained runs (10,000 is the engine's default
 * retention), and what the other GETs cost at each size.
 *
 * Runs are written straight into the store (keys `<prefix>actions/<uuid>`, values shaped like a
 * completed `change_master` ActionRun), 100 per transaction, while the nodes run; the nodes' views
 * take them in through their watches. Each size is measured once every node lists that many runs:
 * - sequential GETs on one kept-alive connection, timed to the body's last byte (no parsing);
 * - autocannon with a few connections, for throughput;
 * - the node's RSS.
 */
import { randomUUID } from 'node:crypto';

import type { ActionRun } from '../src/actions/run.js';
import { ClusterKeys } from '../src/cluster/keys.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/types.js';
import { adminAuth } from '../test/helpers/in-process-node.js';
import { sleep, startCluster, waitAgreedMaster } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { load } from './lib/load.js';
import { rssMB } from './lib/proc.js';
import { median, round, roundSummary, summarize, type Summary } from './lib/stats.js';

export interface ScaleSettings {
  readonly levels: readonly number[];
  readonly requests: number;
  /** Requests timed right after a change to one run (a fresh revision for the node to serve). */
  readonly changedRequests: number;
  readonly loadConnections: number;
  readonly loadDurationS: number;
}

export interface ScaleLevel {
  readonly runs: number;
  readonly bodyBytes: number;
  /** Sequential GET /v1/actions, ms, with nothing changing between requests. */
  readonly sequential: Summary;
  /** GET /v1/actions right after one run was rewritten (so nothing cached for the view's revision), ms. */
  readonly afterChange: Summary;
  readonly load: {
    readonly connections: number;
    readonly rps: number;
    readonly p50: number;
    readonly p99: number;
  };
  /** Sequential GETs of other paths at this size: median ms. */
  readonly others: Record<string, Summary>;
  readonly rssMB: number | undefined;
}

export interface ScaleResult {
  readonly node: number;
  readonly levels: ScaleLevel[];
  /** Median latency at each size over the median at the first size. */
  readonly growth: Record<string, number>;
}

function completedRun(i: number, now: number): ActionRun {
  const from = (i % 3) + 1;
  const to = ((i + 1) % 3) + 1;
  const started = new Date(now - (20_000 - i) * 1000);
  const ended = new Date(started.getTime() + 12);
  return {
    action_uid: randomUUID(),
    name: 'change_master',
    status: 'completed',
    progress: 100,
    node_uid: String(to),
    creation_time: Math.floor(started.getTime() / 1000),
    phase: 'done',
    requester: 'admin@test.local',
    params: { node_uid: to },
    start_time: started.toISOString(),
    end_time: ended.toISOString(),
    cancellable: false,
    outcome: {
      old_master: String(from),
      new_master: String(to),
      epoch: i + 2,
      handover_ms: 9,
      no_master_window_ms: 8,
      server_total_ms: 11,
    },
    checkpoint: {
      from,
      to,
      from_epoch: i + 1,
      intent_at: started.getTime() + 2,
      claimed_at: started.getTime(),
    },
  };
}

export async function addRuns(store: Store, keys: ClusterKeys, from: number, count: number): Promise<void> {
  const now = Date.now();
  for (let done = 0; done < count;) {
    const batch = Math.min(100, count - done);
    const success = Array.from({ length: batch }, (_, j) => {
      const run = completedRun(from + done + j, now);
      return { type: 'put' as const, key: keys.action(run.action_uid), value: JSON.stringify(run) };
    });
    await store.txn({ compare: [], success });
    done += batch;
  }
}

export async function runScale(settings: ScaleSettings, log: (line: string) => void): Promise<ScaleResult> {
  const cluster = await startCluster('sqlite', undefined);
  const http = new HttpClient();
  const store = await openStore(cluster.store);
  const keys = new ClusterKeys('/bosun/');
  try {
    const master = await waitAgreedMaster(http, cluster);
    // Measure a node that is not the master: reads are the same everywhere, and the master's engine
    // stays out of the picture.
    const node = cluster.nodes.find((n) => n.uid !== master)!;
    const count = async (): Promise<number> =>
      (await http.get<{ actions: unknown[] }>(`${node.url}/v1/actions`)).body.actions.length;
    let have = await count();
    const levels: ScaleLevel[] = [];
    for (const level of settings.levels) {
      if (level > have) await addRuns(store, keys, have, level - have);
      for (let i = 0; i < 300 && (have = await count()) < level; i++) await sleep(100);
      if (have !== level) log(`  scale: wanted ${level} runs, the node lists ${have}`);
      const anyRun = (await store.range(keys.actions)).kvs[0]!.key.slice(keys.actions.length);
      const time = async (path: string, n: number): Promise<{ s: Summary; bytes: number }> => {
        for (let i = 0; i < 3; i++) await http.timeGet(`${node.url}${path}`);
        const ms: number[] = [];
        let bytes = 0;
        for (let i = 0; i < n; i++) {
          const r = await http.timeGet(`${node.url}${path}`);
          if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
          ms.push(r.ms);
          bytes = r.bytes;
        }
        return { s: roundSummary(summarize(ms), 3), bytes };
      };
      const list = await time('/v1/actions', settings.requests);
      // The first GET after a change: rewrite one run (a new revision), let the watch deliver it, time.
      const changed: number[] = [];
      const kvs = (await store.range(keys.actions)).kvs;
      for (let i = 0; i < settings.changedRequests; i++) {
        const kv = kvs[Math.floor(Math.random() * kvs.length)]!;
        await store.txn({ compare: [], success: [{ type: 'put', key: kv.key, value: kv.value }] });
        await sleep(50);
        const r = await http.timeGet(`${node.url}/v1/actions`);
        if (r.status !== 200) throw new Error(`GET /v1/actions answered ${r.status}`);
        changed.push(r.ms);
      }
      const loaded = await load({
        url: `${node.url}/v1/actions`,
        connections: settings.loadConnections,
        durationS: settings.loadDurationS,
        headers: { authorization: adminAuth },
      });
      const others: Record<string, Summary> = {};
      for (const path of ['/v1/cluster/actions', '/v1/nodes/status', `/v1/actions/${anyRun}`]) {
        others[path.startsWith('/v1/actions/') ? '/v1/actions/<uid>' : path] = (
          await time(path, Math.min(settings.requests, 100))
        ).s;
      }
      levels.push({
        runs: have,
        bodyBytes: list.bytes,
        sequential: list.s,
        afterChange: roundSummary(summarize(changed), 3),
        load: {
          connections: settings.loadConnections,
          rps: loaded.rps2xx,
          p50: loaded.latency.median,
          p99: loaded.latency.p99,
        },
        others,
        rssMB: node.pid ? round(rssMB(node.pid) ?? Number.NaN, 1) : undefined,
      });
      log(
        `  scale: ${have} runs: GET /v1/actions median ${list.s.median} ms, p99 ${list.s.p99} ms, ` +
          `after a change ${round(median(changed), 2)} ms, ` +
          `${(list.bytes / 1024).toFixed(0)} KiB; ${loaded.rps2xx} req/s at ${settings.loadConnections} connections`,
      );
    }
    const base = levels[0]!.sequential.median;
    return {
      node: node.uid,
      levels,
      growth: Object.fromEntries(levels.map((l) => [String(l.runs), round(l.sequential.median / base, 2)])),
    };
  } finally {
    await store.close();
    http.close();
    await cluster.destroy();
  }
}
