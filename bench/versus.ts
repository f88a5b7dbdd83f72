/**
 * Versus: this build against another one (`--baseline <bin/bosun.js>` of the commit before a change),
 * side by side in one run, so that a refactor can show it cost nothing.
 *
 * - Hand-over: one 3-node cluster of each build on the same store, one `change_master` on each in
 *   turn (the order rotates), timed from POST to the client seeing `completed` with the handover
 *   section's client (handover.ts). Both stores.
 * - GET load: one 3-node SQLite cluster of each build with one completed run; each API path is
 *   loaded on each build's master in alternating rounds (current then baseline, then the reverse).
 *
 * The figures are ratios of medians, current over baseline: for hand-over time lower is better,
 * for req/s higher is better. Noise on a shared machine is a few percent either way.
 */
import type { WireRun } from '../src/api/wire.js';
import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { adminAuth } from '../test/helpers/in-process-node.js';
import type { ProcessCluster } from '../test/helpers/process-cluster.js';
import { API_PATHS } from './api.js';
import { oneHandover, type HandoverSettings } from './handover.js';
import { pick, sleep, startCluster, waitAgreedMaster, type StoreKind } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { load } from './lib/load.js';
import { median, round, roundSummary, summarize, type Summary } from './lib/stats.js';

export interface VersusSettings {
  readonly baselineBin: string;
  readonly handovers: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly durationS: number;
  readonly connections: number;
}

type Build = 'current' | 'baseline';
const BUILDS: readonly Build[] = ['current', 'baseline'];

export interface VersusResult {
  readonly handover: {
    readonly store: StoreKind;
    readonly current: Summary;
    readonly baseline: Summary;
    /** current / baseline, by median (lower is faster). */
    readonly ratio: number;
    readonly failed: number;
  }[];
  readonly get: {
    readonly path: string;
    readonly currentRps: number;
    readonly baselineRps: number;
    readonly currentP99: number;
    readonly baselineP99: number;
    /** current / baseline req/s, by median over rounds (higher is faster). */
    readonly ratio: number;
  }[];
}

async function clustersFor(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  baselineBin: string,
): Promise<Map<Build, ProcessCluster>> {
  const clusters = new Map<Build, ProcessCluster>();
  clusters.set('current', await startCluster(kind, etcd));
  clusters.set('baseline', await startCluster(kind, etcd, { bin: baselineBin }));
  return clusters;
}

async function handoverVersus(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  settings: VersusSettings,
  log: (line: string) => void,
): Promise<VersusResult['handover'][number]> {
  const clusters = await clustersFor(kind, etcd, settings.baselineBin);
  const http = new HttpClient();
  const hs: HandoverSettings = { runs: settings.handovers, warmup: settings.warmup, pollMs: 1, settleMs: 20 };
  const times = new Map<Build, number[]>(BUILDS.map((b) => [b, []]));
  let failed = 0;
  try {
    for (let i = 0; i < settings.warmup + settings.handovers; i++) {
      const order = i % 2 === 0 ? BUILDS : [...BUILDS].reverse();
      for (const build of order) {
        const cluster = clusters.get(build)!;
        const s = await oneHandover(http, cluster, cluster.nodes[i % 3]!.uid, hs);
        await sleep(hs.settleMs);
        if (s.status !== 'completed') {
          failed++;
          log(`  versus ${kind} ${build}: run ${i} ${s.status}: ${s.error ?? ''}`);
        } else if (i >= settings.warmup) times.get(build)!.push(s.postToCompletedMs);
      }
    }
  } finally {
    http.close();
    for (const c of clusters.values()) await c.destroy();
  }
  const current = summarize(times.get('current')!);
  const baseline = summarize(times.get('baseline')!);
  const ratio = round(current.median / baseline.median, 3);
  log(
    `  hand-over ${kind}: current ${round(current.median)} ms, baseline ${round(baseline.median)} ms, x${ratio}`,
  );
  return { store: kind, current: roundSummary(current), baseline: roundSummary(baseline), ratio, failed };
}

/** A cluster of the build with one completed hand-over (so list bodies are not empty); its master. */
async function loadedMaster(http: HttpClient, cluster: ProcessCluster): Promise<string> {
  const first = await waitAgreedMaster(http, cluster);
  const to = pick(cluster.nodes.filter((n) => n.uid !== first)).uid;
  const posted = await http.request<WireRun>(
    'POST',
    `${cluster.node(first).url}/v1/cluster/actions/change_master`,
    {
      node_uid: String(to),
    },
  );
  if (posted.status !== 200) throw new Error(`POST change_master answered ${posted.status}`);
  return cluster.node(await waitAgreedMaster(http, cluster, { is: to })).url;
}

async function getVersus(
  settings: VersusSettings,
  log: (line: string) => void,
): Promise<VersusResult['get']> {
  const clusters = await clustersFor('sqlite', undefined, settings.baselineBin);
  const http = new HttpClient();
  const headers = { authorization: adminAuth };
  const out: VersusResult['get'] = [];
  try {
    const urls = new Map<Build, string>();
    for (const build of BUILDS) urls.set(build, await loadedMaster(http, clusters.get(build)!));
    await sleep(1000);
    for (const path of API_PATHS) {
      const rps = new Map<Build, number[]>(BUILDS.map((b) => [b, []]));
      const p99 = new Map<Build, number[]>(BUILDS.map((b) => [b, []]));
      for (const build of BUILDS)
        await load({
          url: `${urls.get(build)}${path}`,
          connections: settings.connections,
          durationS: 1,
          headers,
        });
      for (let r = 0; r < settings.rounds; r++) {
        for (const build of r % 2 === 0 ? BUILDS : [...BUILDS].reverse()) {
          const res = await load({
            url: `${urls.get(build)}${path}`,
            connections: settings.connections,
            durationS: settings.durationS,
            headers,
          });
          rps.get(build)!.push(res.rps2xx);
          p99.get(build)!.push(res.latency.p99);
          await sleep(300);
        }
      }
      const row = {
        path,
        currentRps: Math.round(median(rps.get('current')!)),
        baselineRps: Math.round(median(rps.get('baseline')!)),
        currentP99: round(median(p99.get('current')!), 3),
        baselineP99: round(median(p99.get('baseline')!), 3),
        ratio: round(median(rps.get('current')!) / median(rps.get('baseline')!), 3),
      };
      log(`  GET ${path}: current ${row.currentRps} req/s, baseline ${row.baselineRps} req/s, x${row.ratio}`);
      out.push(row);
    }
  } finally {
    http.close();
    for (const c of clusters.values()) await c.destroy();
  }
  return out;
}

export async function runVersus(
  settings: VersusSettings,
  etcd: EtcdCluster,
  log: (line: string) => void,
): Promise<VersusResult> {
  const handover: VersusResult['handover'] = [];
  for (const kind of ['sqlite', 'etcd'] as const)
    handover.push(await handoverVersus(kind, etcd, settings, log));
  return { handover, get: await getVersus(settings, log) };
}
