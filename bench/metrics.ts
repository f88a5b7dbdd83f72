/**
 * Metrics: what `/metrics` costs, and what keeping metrics costs the hand-over.
 *
 * - Per-scrape cost: on a 3-node cluster with metrics on, `scrapes` sequential GET /metrics against one
 *   node, interleaved one for one with GET /v1/cluster (a small authenticated read) as the yardstick;
 *   client-side time to the last byte, the body size, and the node's CPU time per scrape (from
 *   /proc, over the scrape loop, minus the same loop of /v1/cluster reads).
 * - Hand-over with metrics on against metrics off (BOSUN_METRICS=0): two clusters on the same store,
 *   one hand-over on each in turn (alternating which goes first), the same client code as the
 *   handover section (handover.ts). The ratio of medians is the figure.
 */
import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { oneHandover, type HandoverSettings } from './handover.js';
import { startCluster, type StoreKind } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { cpuMs } from './lib/proc.js';
import { roundSummary, summarize, type Summary } from './lib/stats.js';

export interface MetricsSettings {
  readonly scrapes: number;
  readonly handovers: number;
  readonly warmup: number;
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
    readonly ratio: number;
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
  const on = await startCluster(kind, etcd);
  const off = await startCluster(kind, etcd, { env: { BOSUN_METRICS: '0' } });
  const http = new HttpClient();
  const hs: HandoverSettings = { runs: settings.handovers, warmup: settings.warmup, pollMs: 1, settleMs: 20 };
  const samples = { on: [] as number[], off: [] as number[], wOn: [] as number[], wOff: [] as number[] };
  let failed = 0;
  try {
    const total = settings.warmup + settings.handovers;
    for (let i = 0; i < total; i++) {
      const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of order) {
        const cluster = which === 'on' ? on : off;
        const s = await oneHandover(http, cluster, cluster.nodes[i % 3]!.uid, hs);
        if (s.status !== 'completed') {
          failed++;
          log(`  metrics ${kind} ${which}: run ${i} ${s.status}: ${s.error ?? ''}`);
          continue;
        }
        if (i < settings.warmup) continue;
        samples[which].push(s.postToCompletedMs);
        (which === 'on' ? samples.wOn : samples.wOff).push(s.outcome?.no_master_window_ms ?? Number.NaN);
        await new Promise((r) => setTimeout(r, hs.settleMs));
      }
    }
  } finally {
    http.close();
    await on.destroy();
    await off.destroy();
  }
  const sOn = summarize(samples.on);
  const sOff = summarize(samples.off);
  return {
    store: kind,
    on: roundSummary(sOn),
    off: roundSummary(sOff),
    noMasterWindowOn: roundSummary(summarize(samples.wOn)),
    noMasterWindowOff: roundSummary(summarize(samples.wOff)),
    ratio: Math.round((sOn.median / sOff.median) * 100) / 100,
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
    log(`  metrics: ${kind} hand-over median on ${h.on.median} ms, off ${h.off.median} ms (x${h.ratio})`);
    handover.push(h);
  }
  return { scrape, handover };
}
