/**
 * Diagnostics: where a `change_master` spends its time. The nodes run with the store-call tracer
 * (store-trace.ts); a few hand-overs are done as in the hand-over benchmark, and every store call and
 * watch delivery that falls inside each run's POST-to-completed window is counted and kept. The median
 * run's timeline is kept whole, as evidence.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { EtcdCluster } from '../../test/helpers/etcd-cluster.js';
import { pick, sleep, startCluster, waitAgreedMaster, type StoreKind } from '../lib/cluster.js';
import { HttpClient } from '../lib/http.js';
import { median, round, roundSummary, summarize, type Summary } from '../lib/stats.js';
import type { TraceLine } from './store-trace.js';

export interface TracedRun {
  readonly from: number;
  readonly to: number;
  readonly client: number;
  readonly totalMs: number;
  /** Store calls (not watch deliveries) inside the window, by kind. */
  readonly calls: Record<string, number>;
  /** Store calls on the critical path: made by the old master before the intent, or by the new master. */
  readonly sumCallMs: number;
  readonly timeline: string[];
}

export interface TraceResult {
  readonly store: StoreKind;
  readonly runs: number;
  readonly medianTotalMs: number;
  readonly medianCalls: Record<string, number>;
  readonly medianSumCallMs: number;
  readonly medianRun: TracedRun;
  /**
   * Watch hop: from a write's transaction returning in one node to another node's watch delivering that
   * revision, ms, over every write of every traced run.
   */
  readonly watchHop: Summary;
  /** Share of hops over 3 ms. */
  readonly slowHopShare: number;
}

const preload = new URL('./store-trace.js', import.meta.url).href;

export async function traceStore(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  runs: number,
  dir: string,
): Promise<TraceResult> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const saved = { options: process.env.NODE_OPTIONS, dir: process.env.BOSUN_STORE_TRACE_DIR };
  process.env.NODE_OPTIONS = `${saved.options ?? ''} --import=${preload}`.trim();
  process.env.BOSUN_STORE_TRACE_DIR = dir;
  let cluster;
  try {
    cluster = await startCluster(kind, etcd);
  } finally {
    for (const [k, v] of [
      ['NODE_OPTIONS', saved.options],
      ['BOSUN_STORE_TRACE_DIR', saved.dir],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const http = new HttpClient();
  const windows: { t0: number; t1: number; from: number; to: number; client: number }[] = [];
  const pids = new Map(cluster.nodes.map((n) => [n.pid!, n.uid]));
  try {
    for (let i = 0; i < runs + 2; i++) {
      const from = await waitAgreedMaster(http, cluster);
      const to = pick(cluster.nodes.filter((n) => n.uid !== from)).uid;
      const client = cluster.nodes[i % 3]!;
      await sleep(150);
      const t0 = performance.timeOrigin + performance.now();
      const post = await http.request<{ action_uid: string; status: string }>(
        'POST',
        `${client.url}/v1/cluster/actions/change_master`,
        { node_uid: String(to) },
      );
      let status = post.body.status;
      while (!['completed', 'failed', 'cancelled'].includes(status)) {
        await sleep(1);
        status = (await http.get<{ status: string }>(`${client.url}/v1/actions/${post.body.action_uid}`)).body
          .status;
      }
      const t1 = performance.timeOrigin + performance.now();
      if (i >= 2 && status === 'completed') windows.push({ t0, t1, from, to, client: client.uid });
    }
    await sleep(300);
  } finally {
    http.close();
    await cluster.destroy();
  }
  const lines: TraceLine[] = [];
  for (const f of await readdir(dir)) {
    const text = await readFile(join(dir, f), 'utf8');
    for (const l of text.split('\n')) if (l) lines.push(JSON.parse(l) as TraceLine);
  }
  const strip = (k: string): string =>
    k.replace(/\/bosun\//g, '').replace(/([0-9a-f]{8})-[0-9a-f-]{27}/g, '$1…');
  const traced: TracedRun[] = windows.map((w) => {
    const inside = lines.filter((l) => l.t >= w.t0 - 0.5 && l.t <= w.t1 + 0.5).sort((a, b) => a.t - b.t);
    const calls: Record<string, number> = {};
    let sumCallMs = 0;
    for (const l of inside) {
      if (l.kind === 'watch') continue;
      calls[l.kind] = (calls[l.kind] ?? 0) + 1;
      const uid = pids.get(l.pid);
      if (uid === w.from || uid === w.to || l.keys.some((k) => k.includes('active/'))) sumCallMs += l.ms;
    }
    return {
      from: w.from,
      to: w.to,
      client: w.client,
      totalMs: round(w.t1 - w.t0),
      calls,
      sumCallMs: round(sumCallMs),
      timeline: inside.map((l) => {
        const uid = pids.get(l.pid);
        const role = uid === w.from ? 'old' : uid === w.to ? 'new' : 'other';
        return (
          `${(l.t - w.t0).toFixed(1).padStart(6)} ms  node ${uid} (${role.padEnd(5)}) ` +
          `${l.kind.padEnd(5)} ${l.kind === 'watch' ? '       ' : `${l.ms.toFixed(1).padStart(5)} ms`} ` +
          `${l.succeeded === false ? 'FAILED ' : ''}${l.keys.map(strip).join(' ')}`
        );
      }),
    };
  });
  const hops: number[] = [];
  const deliveries = new Map<string, number>();
  for (const l of lines) {
    if (l.kind === 'watch' && l.revision !== undefined) deliveries.set(`${l.pid}@${l.revision}`, l.t);
  }
  for (const w of windows) {
    for (const l of lines) {
      if (l.kind !== 'txn' || !l.succeeded || l.revision === undefined || l.t < w.t0 || l.t > w.t1) continue;
      const written = l.t + l.ms;
      for (const pid of pids.keys()) {
        const seen = pid === l.pid ? undefined : deliveries.get(`${pid}@${l.revision}`);
        if (seen !== undefined) hops.push(seen - written);
      }
    }
  }
  const sorted = [...traced].sort((a, b) => a.totalMs - b.totalMs);
  const kinds = [...new Set(traced.flatMap((t) => Object.keys(t.calls)))];
  return {
    store: kind,
    runs: traced.length,
    medianTotalMs: round(median(traced.map((t) => t.totalMs))),
    medianCalls: Object.fromEntries(kinds.map((k) => [k, median(traced.map((t) => t.calls[k] ?? 0))])),
    medianSumCallMs: round(median(traced.map((t) => t.sumCallMs))),
    medianRun: sorted[Math.floor(sorted.length / 2)]!,
    watchHop: roundSummary(summarize(hops)),
    slowHopShare: round(hops.filter((h) => h > 3).length / Math.max(1, hops.length), 3),
  };
}
