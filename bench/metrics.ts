/**
 * Metrics: what `/metrics` costs, and what keeping metrics costs the hand-over.
 *
 * - Per-scrape cost: on a 3-node cluster with metrics on, `scrapes` sequential GET /metrics against one
 *   node, interleaved one for one with GET /v1/cluster (a small authenticated read) as the yardstick;
 *   client-side time to the last byte, the body size, and the node's CPU time per scrape (from
 *   /proc, over the scrape loop, minus the same loop of /v1/cluster reads).
 * - Hand-over with metrics on against metrics off (BOSUN_METRICS=0), and, with `--baseline <bin>`,
 *   against another build (the commit before metrics and the event log: `before`): clusters on the same
 *   store, one hand-over on each in turn (rotating which goes first), the same client code as the
 *   handover section (handover.ts). The ratios of medians are the figures.
 */
import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import type { ProcessCluster } from '../test/helpers/process-cluster.js';
import { oneHandover, type HandoverSettings } from './handover.js';
import { startCluster, type StoreKind } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { cpuMs } from './lib/proc.js';
import { roundSummary, summarize, type Summary } from './lib/stats.js';

export interface MetricsSettings {
  readonly scrapes: number;
  readonly handovers: number;
  readonly warmup: number;
  /** Another build's bin/bosun.js: the "before" leg. */
  readonly baselineBin?: string | undefined;
}

export interface MetricsResult {
  readonly scrape: {
    readonly metricsMs: Summary;
    readonly clusterGetMs: Summary;
    readonly ratio: number;
    readonly bodyBytes: number;
    readonly series: number;
    readonly nodeCpuMsPerScrape: number | undefined;
    readonly nodeCpuMsPerClusterGet: number | undefined;
  };
  readonly handover: {
    readonly store: StoreKind;
    readonly on: Summary;
    readonly off: Summary;
    readonly noMasterWindowOn: Summary;
    readonly noMasterWindowOff: Summary;
    /** on / off, by median. */
    readonly ratio: number;
    readonly before?: Summary;
    readonly noMasterWindowBefore?: Summary;
    /** on / before, by median. */
    readonly ratioToBefore?: number;
    readonly failed: number;
  }[];
}

async function scrapeCost(settings: MetricsSettings): Promise<MetricsResult['scrape']> {
  const cluster = await startCluster('sqlite', undefined);
  const http = new HttpClient();
  try {
    const node = cluster.nodes[0]!;
    const metricsUrl = `${node.url}/metrics`;
    const clusterUrl = `${node.url}/v1/cluster`;
    for (let i = 0; i < 20; i++) {
      await http.timeGet(metricsUrl);
      await http.timeGet(clusterUrl);
    }
    const metricsMs: number[] = [];
    const clusterMs: number[] = [];
    let bodyBytes = 0;
    for (let i = 0; i < settings.scrapes; i++) {
      const m = await http.timeGet(metricsUrl);
      if (m.status !== 200) throw new Error(`GET /metrics answered ${m.status}`);
      metricsMs.push(m.ms);
      bodyBytes = m.bytes;
      clusterMs.push((await http.timeGet(clusterUrl)).ms);
    }
    // CPU per request: the node's CPU over a loop of one kind of request only.
    const cpuLoop = async (url: string): Promise<number | undefined> => {
      const before = cpuMs(node.pid!);
      for (let i = 0; i < settings.scrapes; i++) await http.timeGet(url);
      const after = cpuMs(node.pid!);
      return before === undefined || after === undefined ? undefined : (after - before) / settings.scrapes;
    };
    const cpuScrape = await cpuLoop(metricsUrl);
    const cpuGet = await cpuLoop(clusterUrl);
    const text = await (await fetch(metricsUrl)).text();
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    const m = summarize(metricsMs);
    const c = summarize(clusterMs);
    return {
      metricsMs: roundSummary(m),
      clusterGetMs: roundSummary(c),
      ratio: Math.round((m.median / c.median) * 100) / 100,
      bodyBytes,
      series,
      nodeCpuMsPerScrape: cpuScrape === undefined ? undefined : Math.round(cpuScrape * 100) / 100,
      nodeCpuMsPerClusterGet: cpuGet === undefined ? undefined : Math.round(cpuGet * 100) / 100,
    };
  } finally {
    http.close();
    await cluster.destroy();
  }
}

async function handoverOnOff(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  settings: MetricsSettings,
  log: (line: string) => void,
): Promise<MetricsResult['handover'][number]> {
  type Leg = 'on' | 'off' | 'before';
  const clusters = new Map<Leg, ProcessCluster>();
  clusters.set('on', await startCluster(kind, etcd));
  clusters.set('off', await startCluster(kind, etcd, { env: { BOSUN_METRICS: '0' } }));
  if (settings.baselineBin)
    clusters.set('before', await startCluster(kind, etcd, { bin: settings.baselineBin }));
  const http = new HttpClient();
  const hs: HandoverSettings = { runs: settings.handovers, warmup: settings.warmup, pollMs: 1, settleMs: 20 };
  const total = new Map<Leg, number[]>([...clusters.keys()].map((k) => [k, []]));
  const window = new Map<Leg, number[]>([...clusters.keys()].map((k) => [k, []]));
  let failed = 0;
  try {
    const legs = [...clusters.keys()];
    for (let i = 0; i < settings.warmup + settings.handovers; i++) {
      const order = [...legs.slice(i % legs.length), ...legs.slice(0, i % legs.length)];
      for (const leg of order) {
        const cluster = clusters.get(leg)!;
        const s = await oneHandover(http, cluster, cluster.nodes[i % 3]!.uid, hs);
        await new Promise((r) => setTimeout(r, hs.settleMs));
        if (s.status !== 'completed') {
          failed++;
          log(`  metrics ${kind} ${leg}: run ${i} ${s.status}: ${s.error ?? ''}`);
          continue;
        }
        if (i < settings.warmup) continue;
        total.get(leg)!.push(s.postToCompletedMs);
        window.get(leg)!.push(s.outcome?.no_master_window_ms ?? Number.NaN);
      }
    }
  } finally {
    http.close();
    for (const c of clusters.values()) await c.destroy();
  }
  const med = (leg: Leg) => summarize(total.get(leg) ?? []);
  const ratio = (a: Summary, b: Summary) => Math.round((a.median / b.median) * 100) / 100;
  const on = med('on');
  const off = med('off');
  const before = clusters.has('before') ? med('before') : undefined;
  return {
    store: kind,
    on: roundSummary(on),
    off: roundSummary(off),
    noMasterWindowOn: roundSummary(summarize(window.get('on')!)),
    noMasterWindowOff: roundSummary(summarize(window.get('off')!)),
    ratio: ratio(on, off),
    ...(before
      ? {
          before: roundSummary(before),
          noMasterWindowBefore: roundSummary(summarize(window.get('before')!)),
          ratioToBefore: ratio(on, before),
        }
      : {}),
    failed,
  };
}

export async function runMetrics(
  settings: MetricsSettings,
  etcd: EtcdCluster,
  log: (line: string) => void,
): Promise<MetricsResult> {
  log('  metrics: per-scrape cost');
  const scrape = await scrapeCost(settings);
  log(`  metrics: scrape median ${scrape.metricsMs.median} ms (x${scrape.ratio} a GET /v1/cluster)`);
  const handover: MetricsResult['handover'] = [];
  for (const kind of ['sqlite', 'etcd'] as const) {
    log(`  metrics: hand-over on ${kind}, metrics on against off`);
    const h = await handoverOnOff(kind, etcd, settings, log);
    log(
      `  metrics: ${kind} hand-over median on ${h.on.median} ms, off ${h.off.median} ms (x${h.ratio})` +
        (h.before ? `, before ${h.before.median} ms (x${h.ratioToBefore})` : ''),
    );
    handover.push(h);
  }
  return { scrape, handover };
}
