/**
 * History: the run history with 1,000 and 100,000 retained runs, side by side, on both stores.
 * Per size: the store's size on disk, the node's RSS, today's whole list (`GET /v1/actions`), and
 * the history queries of issue 10 (newest first with a limit, the next page by cursor, a status
 * filter matching 2% of the runs, a time window). Runs are written straight into the store (as in
 * scale.ts), 2% of them failed; the node keeps them all (`BOSUN_RETAIN_RUNS=200000`).
 *
 * Cancel: how long a DELETE takes to end a change_master run before its point of no return (a
 * queued run, the master paused), from the DELETE to the run read back `cancelled`; and, for a
 * DELETE sent the moment the POST answers, how often it comes after that point (409).
 */
import { statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

import type { ActionRun } from '../src/actions/run.js';
import { ClusterKeys } from '../src/cluster/keys.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/types.js';
import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import type { ProcessCluster } from '../test/helpers/process-cluster.js';
import { sleep, startCluster, waitAgreedMaster, type StoreKind } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { rssMB } from './lib/proc.js';
import { round, roundSummary, summarize, type Summary } from './lib/stats.js';

export interface HistorySettings {
  readonly levels: readonly number[];
  /** Timed requests per query (the whole list at the largest size: a fifth of it). */
  readonly requests: number;
  /** DELETE-after-POST attempts per store. */
  readonly cancels: number;
}

export interface HistoryLevel {
  readonly runs: number;
  /** SQLite: the file and its WAL; etcd: the backend's size (dbSize) and what is in use. */
  readonly storeMB: number;
  readonly storeInUseMB: number | undefined;
  readonly rssMB: number | undefined;
  readonly fullListBytes: number;
  /** ms per query. */
  readonly queries: Record<string, Summary>;
}

export interface CancelResult {
  /** Per case: queued cancels timed, then raced DELETEs counted. */
  readonly attempts: number;
  readonly cancelledAtOnce: number;
  readonly cancelledByEngine: number;
  readonly refusedPastPoint: number;
  readonly other: number;
  /** Queued case: from sending the DELETE to the run read back `cancelled`, ms. */
  readonly deleteToCancelled: Summary | undefined;
}

export interface StoreHistoryResult {
  readonly store: StoreKind;
  readonly levels: HistoryLevel[];
  readonly cancel: CancelResult;
}

function run(i: number, now: number): ActionRun {
  const created = now - (200_000 - i) * 1000;
  const failed = i % 50 === 0;
  return {
    action_uid: randomUUID(),
    name: 'change_master',
    status: failed ? 'failed' : 'completed',
    progress: failed ? 40 : 100,
    node_uid: '1',
    creation_time: Math.floor(created / 1000),
    requester: 'admin@test.local',
    params: { node_uid: 2 },
    start_time: new Date(created).toISOString(),
    end_time: new Date(created + 12).toISOString(),
    cancellable: false,
    ...(failed
      ? { error_code: 'handover_timeout', error_message: 'Node 2 did not take over within 5000 ms.' }
      : { outcome: { old_master: '1', new_master: '2', epoch: i + 2, handover_ms: 9 } }),
  };
}

/** Writes `count` runs, 100 a transaction; returns the store revision of the last write. */
async function addRuns(store: Store, keys: ClusterKeys, from: number, count: number): Promise<number> {
  const now = Date.now();
  let revision = 0;
  for (let done = 0; done < count;) {
    const batch = Math.min(100, count - done);
    const success = Array.from({ length: batch }, (_, j) => {
      const r = run(from + done + j, now);
      return { type: 'put' as const, key: keys.action(r.action_uid), value: JSON.stringify(r) };
    });
    ({ revision } = await store.txn({ compare: [], success }));
    done += batch;
  }
  return revision;
}

async function storeSize(kind: StoreKind, cluster: ProcessCluster, etcd: EtcdCluster | undefined) {
  if (kind === 'sqlite') {
    const path = cluster.store.slice('sqlite:'.length);
    const size = (p: string) => {
      try {
        return statSync(p).size;
      } catch {
        return 0;
      }
    };
    return { total: size(path) + size(`${path}-wal`), inUse: undefined };
  }
  const res = await fetch(`${etcd!.members[0]!.clientUrl}/v3/maintenance/status`, {
    method: 'POST',
    body: '{}',
  });
  const body = (await res.json()) as { dbSize?: string; dbSizeInUse?: string };
  return { total: Number(body.dbSize ?? 0), inUse: Number(body.dbSizeInUse ?? 0) };
}

async function timeQuery(http: HttpClient, url: string, n: number): Promise<{ s: Summary; bytes: number }> {
  for (let i = 0; i < 2; i++) await http.timeGet(url, 60_000);
  const ms: number[] = [];
  let bytes = 0;
  let unavailable = 0;
  while (ms.length < n) {
    const r = await http.timeGet(url, 60_000);
    // A node catching up with 100,000 fresh writes may answer 503 for a moment: wait, not time it.
    if (r.status === 503 && unavailable++ < 50) {
      await sleep(200);
      continue;
    }
    if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}`);
    ms.push(r.ms);
    bytes = r.bytes;
  }
  return { s: roundSummary(summarize(ms), 3), bytes };
}

async function measureLevel(
  http: HttpClient,
  base: string,
  n: number,
): Promise<{ queries: Record<string, Summary>; fullListBytes: number }> {
  const first = await http.get<{ next_cursor?: string }>(`${base}/v1/actions?order=desc&limit=50`);
  const hourAgo = Math.floor(Date.now() / 1000) - 3600;
  const paths: Record<string, string> = {
    'newest 50 (order=desc&limit=50)': '/v1/actions?order=desc&limit=50',
    'next page (cursor)': `/v1/actions?order=desc&limit=50&cursor=${first.body.next_cursor ?? ''}`,
    'status=failed&limit=50': '/v1/actions?status=failed&limit=50',
    'last hour (since, desc, limit=50)': `/v1/actions?since=${hourAgo}&order=desc&limit=50`,
    'latest status (GET /v1/cluster/actions)': '/v1/cluster/actions',
  };
  const queries: Record<string, Summary> = {};
  for (const [label, path] of Object.entries(paths))
    queries[label] = (await timeQuery(http, base + path, n)).s;
  const full = await timeQuery(http, `${base}/v1/actions`, Math.max(3, Math.floor(n / 5)));
  queries['whole list (no parameter)'] = full.s;
  return { queries, fullListBytes: full.bytes };
}

async function historyLevels(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  settings: HistorySettings,
  log: (line: string) => void,
): Promise<HistoryLevel[]> {
  // A longer lease than the default: writing 100,000 runs keeps the store busy.
  const cluster = await startCluster(kind, etcd, {
    nodes: 1,
    leaseTtlMs: 10_000,
    env: { BOSUN_RETAIN_RUNS: '200000' },
  });
  const http = new HttpClient();
  const store = await openStore(cluster.store);
  const keys = new ClusterKeys('/bosun/');
  try {
    await waitAgreedMaster(http, cluster);
    const node = cluster.nodes[0]!;
    let have = 0;
    const levels: HistoryLevel[] = [];
    for (const level of settings.levels) {
      const revision = await addRuns(store, keys, have, level - have);
      have = level;
      // Measured once the node's view has applied every write: its answers say how far the view is
      // (X-Bosun-Revision). A run's own GET is no sign, since a run the view lacks is read from the
      // store. (A kept-alive socket may have timed out while the runs were written: a reset is retried.)
      for (let i = 0; i < 1200; i++) {
        const seen = await http.get(`${node.url}/v1/cluster`).then(
          (r) => Number(r.headers['x-bosun-revision'] ?? 0),
          () => 0,
        );
        if (seen >= revision) break;
        await sleep(100);
      }
      const m = await measureLevel(http, node.url, settings.requests);
      const size = await storeSize(kind, cluster, etcd);
      levels.push({
        runs: have,
        storeMB: round(size.total / 1024 / 1024, 1),
        storeInUseMB: size.inUse === undefined ? undefined : round(size.inUse / 1024 / 1024, 1),
        rssMB: node.pid ? round(rssMB(node.pid) ?? Number.NaN, 1) : undefined,
        fullListBytes: m.fullListBytes,
        queries: m.queries,
      });
      log(
        `  history ${kind}: ${have} runs, store ${round(size.total / 1048576, 1)} MB; newest 50 median ${m.queries['newest 50 (order=desc&limit=50)']!.median} ms, whole list ${m.queries['whole list (no parameter)']!.median} ms`,
      );
    }
    return levels;
  } finally {
    await store.close();
    http.close();
    await cluster.destroy();
  }
}

/** SIGSTOPs `node`, never while it holds SQLite's write lock: a probe write must go through. */
async function pauseOutsideWrite(node: ProcessCluster['nodes'][number], store: Store): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await node.signal('SIGSTOP');
    try {
      await store.txn({
        compare: [],
        success: [{ type: 'put', key: '/bench-probe', value: String(attempt) }],
      });
      return;
    } catch {
      await node.signal('SIGCONT');
      await sleep(50);
    }
  }
  throw new Error(`node ${node.uid} could not be paused outside a write`);
}

/** Polls a run until it ends; its status. */
async function settle(http: HttpClient, base: string, uid: string): Promise<string> {
  for (let j = 0; j < 500; j++) {
    const r = await http.get<{ status: string }>(`${base}/v1/actions/${uid}`).catch(() => undefined);
    if (r && ['completed', 'failed', 'cancelled'].includes(r.body.status)) return r.body.status;
    await sleep(5);
  }
  return 'unfinished';
}

/**
 * Two cases. Queued: the master is paused, so a run waits unclaimed, and a DELETE sent to another
 * node cancels it; timed from the DELETE to the run read back `cancelled`. Raced: a DELETE sent the
 * moment the POST answers, on the same connection to the master, where the hand-over intent is
 * usually out within milliseconds: counts of what the DELETE met.
 */
async function cancelLatency(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  attempts: number,
): Promise<CancelResult> {
  const cluster = await startCluster(kind, etcd, { nodes: 3, leaseTtlMs: 6000 });
  const http = new HttpClient();
  const store = await openStore(cluster.store);
  const times: number[] = [];
  const counts = { cancelledAtOnce: 0, cancelledByEngine: 0, refusedPastPoint: 0, other: 0 };
  try {
    for (let i = 0; i < attempts; i++) {
      const master = cluster.node(await waitAgreedMaster(http, cluster));
      const via = cluster.nodes.find((n) => n.uid !== master.uid)!;
      await pauseOutsideWrite(master, store);
      let uid: string;
      try {
        const posted = await http.request<{ action_uid: string }>(
          'POST',
          `${via.url}/v1/cluster/actions/change_master`,
          {
            node_uid: via.uid,
          },
        );
        if (posted.status !== 200) throw new Error(`POST answered ${posted.status}`);
        uid = posted.body.action_uid;
        const t0 = performance.now();
        const del = await http.request<{ status?: string }>(
          'DELETE',
          `${via.url}/v1/cluster/actions/change_master`,
        );
        const seen = await http.get<{ status: string }>(`${via.url}/v1/actions/${uid}`);
        if (del.status === 200 && seen.body.status === 'cancelled') times.push(performance.now() - t0);
      } finally {
        await master.signal('SIGCONT');
      }
      await settle(http, via.url, uid);
    }
    for (let i = 0; i < attempts; i++) {
      const master = cluster.node(await waitAgreedMaster(http, cluster));
      const target = cluster.nodes.find((n) => n.uid !== master.uid)!;
      const posted = await http.request<{ action_uid: string }>(
        'POST',
        `${master.url}/v1/cluster/actions/change_master`,
        {
          node_uid: target.uid,
        },
      );
      if (posted.status !== 200) throw new Error(`POST answered ${posted.status}`);
      const del = await http.request<{ status?: string }>(
        'DELETE',
        `${master.url}/v1/cluster/actions/change_master`,
      );
      if (del.status === 409) counts.refusedPastPoint++;
      else if (del.body.status === 'cancelled') counts.cancelledAtOnce++;
      else if (del.body.status === 'cancelling')
        counts[
          (await settle(http, master.url, posted.body.action_uid)) === 'cancelled'
            ? 'cancelledByEngine'
            : 'other'
        ]++;
      else counts.other++;
      await settle(http, master.url, posted.body.action_uid);
    }
    return {
      attempts,
      ...counts,
      deleteToCancelled: times.length ? roundSummary(summarize(times), 2) : undefined,
    };
  } finally {
    await store.close();
    http.close();
    await cluster.destroy();
  }
}

export async function runHistory(
  settings: HistorySettings,
  etcd: EtcdCluster,
  log: (line: string) => void,
): Promise<StoreHistoryResult[]> {
  const out: StoreHistoryResult[] = [];
  for (const kind of ['sqlite', 'etcd'] as const) {
    const levels = await historyLevels(kind, kind === 'etcd' ? etcd : undefined, settings, log);
    const cancel = await cancelLatency(kind, kind === 'etcd' ? etcd : undefined, settings.cancels);
    log(
      `  cancel ${kind}: ${cancel.cancelledAtOnce} at once, ${cancel.cancelledByEngine} by the engine, ${cancel.refusedPastPoint} past the point (409); DELETE→cancelled median ${cancel.deleteToCancelled?.median ?? '-'} ms`,
    );
    out.push({ store: kind, levels, cancel });
  }
  return out;
}
