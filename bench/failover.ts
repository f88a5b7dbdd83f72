/**
 * Failover: `kill -9` of the master, and the time until a new master serves writes.
 *
 * Each run waits a random time within one lease TTL (so the kill lands anywhere in the keep-alive
 * cycle), SIGKILLs the master, and at once POSTs a `change_master` naming one survivor to that
 * survivor. The run stays queued until a master claims it: the claim is the new master's first write.
 * Three times are recorded from the kill:
 * - `writeMs`: the run's recorded `start_time` (the claim, written by the new master; same host clock,
 *   1 ms resolution);
 * - `writeSeenMs`: the client's first poll (every 2 ms) that shows the run claimed;
 * - `masterSeenMs`: the first healthcheck poll where a survivor reports `is_master`.
 * The killed node is then restarted, and the next run starts once all three agree on a master.
 *
 * Each store runs once per fast-failover mode (src/cluster/failure-detector.ts), side by side in one run:
 * - `off`: today's lease-expiry failover, the baseline;
 * - `on`: the default: the master's process gone on this host (certain) or its port refused (majority);
 * - `port`: the refused port alone, confirmed by a majority, as between hosts.
 */
import type { FastFailoverMode } from '../src/cluster/failure-detector.js';
import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import type { ClusterNode } from '../test/helpers/process-cluster.js';
import { healthcheck, pick, sleep, startCluster, waitAgreedMaster, type StoreKind } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { roundSummary, summarize, type Summary } from './lib/stats.js';

export interface FailoverSettings {
  readonly runs: number;
  readonly leaseTtlMs: number;
  readonly pollMs: number;
  /** The fast-failover modes to measure, each on a cluster of its own. */
  readonly modes: readonly FastFailoverMode[];
}

export interface FailoverSample {
  readonly killed: number;
  readonly newMaster: number | undefined;
  readonly probeTarget: number;
  readonly delayBeforeKillMs: number;
  readonly writeMs: number;
  readonly writeSeenMs: number;
  readonly masterSeenMs: number;
  readonly probeStatus: string;
  readonly error?: string;
}

export interface StoreFailoverResult {
  readonly store: StoreKind;
  /** The nodes' `--fast-failover` mode; absent in results from before it existed (then: off). */
  readonly fastFailover?: FastFailoverMode;
  readonly leaseTtlMs: number;
  readonly samples: FailoverSample[];
  readonly summary: {
    readonly write: Summary;
    readonly writeSeen: Summary;
    readonly masterSeen: Summary;
  };
  /** Median and p90 of `writeMs` over the lease TTL. */
  readonly ratioToTtl: { readonly median: number; readonly p90: number; readonly max: number };
}

interface WireRun {
  readonly action_uid: string;
  readonly status: string;
  readonly node_uid?: string;
  readonly start_time?: string;
}

export async function failoverOnStore(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  settings: FailoverSettings,
  mode: FastFailoverMode,
  log: (line: string) => void,
): Promise<StoreFailoverResult> {
  const cluster = await startCluster(kind, etcd, { leaseTtlMs: settings.leaseTtlMs, fastFailover: mode });
  const http = new HttpClient();
  const samples: FailoverSample[] = [];
  try {
    for (let i = 0; i < settings.runs; i++) {
      const killed = await waitAgreedMaster(http, cluster);
      const survivors = cluster.nodes.filter((n) => n.uid !== killed);
      const probe = pick(survivors);
      const delayBeforeKillMs = Math.round(Math.random() * settings.leaseTtlMs);
      await sleep(delayBeforeKillMs);
      const killedAt = Date.now();
      await cluster.node(killed).signal('SIGKILL');
      let sample: FailoverSample;
      try {
        sample = await measure(http, killedAt, killed, probe.url, probe.uid, survivors, settings);
      } catch (err) {
        sample = {
          killed,
          newMaster: undefined,
          probeTarget: probe.uid,
          delayBeforeKillMs,
          writeMs: Number.NaN,
          writeSeenMs: Number.NaN,
          masterSeenMs: Number.NaN,
          probeStatus: 'bench_error',
          error: err instanceof Error ? err.message : String(err),
        };
      }
      samples.push({ ...sample, delayBeforeKillMs });
      log(
        `  ${kind} (fast failover ${mode}): kill ${i + 1}/${settings.runs} of node ${killed}: new master ${sample.newMaster} ` +
          `serves writes after ${sample.writeMs} ms`,
      );
      cluster.node(killed).start();
      await waitAgreedMaster(http, cluster, { timeoutMs: 60_000 });
      // Every node, the restarted one included, answers before the next kill.
      await sleep(500);
    }
  } finally {
    http.close();
    await cluster.destroy();
  }
  const write = summarize(samples.map((s) => s.writeMs));
  const r = (v: number): number => Math.round((v / settings.leaseTtlMs) * 1000) / 1000;
  return {
    store: kind,
    fastFailover: mode,
    leaseTtlMs: settings.leaseTtlMs,
    samples,
    summary: {
      write: roundSummary(write),
      writeSeen: roundSummary(summarize(samples.map((s) => s.writeSeenMs))),
      masterSeen: roundSummary(summarize(samples.map((s) => s.masterSeenMs))),
    },
    ratioToTtl: { median: r(write.median), p90: r(write.p90), max: r(write.max) },
  };
}

async function measure(
  http: HttpClient,
  killedAt: number,
  killed: number,
  probeUrl: string,
  probeUid: number,
  survivors: ClusterNode[],
  settings: FailoverSettings,
): Promise<FailoverSample> {
  const post = await http.request<WireRun>('POST', `${probeUrl}/v1/cluster/actions/change_master`, {
    node_uid: String(probeUid),
  });
  if (post.status !== 200)
    throw new Error(`probe POST answered ${post.status}: ${JSON.stringify(post.body)}`);
  const uid = post.body.action_uid;
  let masterSeenMs = Number.NaN;
  let newMaster: number | undefined;
  const deadline = killedAt + settings.leaseTtlMs * 5;
  // Healthchecks of both survivors, until one says it is master.
  const watchMaster = (async () => {
    while (Number.isNaN(masterSeenMs) && Date.now() < deadline) {
      const answers = await Promise.all(survivors.map((n) => healthcheck(http, n)));
      const m = answers.find((a) => a?.is_master);
      if (m) {
        masterSeenMs = Date.now() - killedAt;
        newMaster = m.node_uid;
        return;
      }
      await sleep(settings.pollMs);
    }
  })();
  let run = post.body;
  let writeSeenMs = Number.NaN;
  while (Date.now() < deadline) {
    const res = await http.get<WireRun>(`${probeUrl}/v1/actions/${uid}`);
    if (res.status === 200) run = res.body;
    if (run.status !== 'queued') {
      writeSeenMs = Date.now() - killedAt;
      break;
    }
    await sleep(settings.pollMs);
  }
  await watchMaster;
  return {
    killed,
    newMaster: newMaster ?? (run.node_uid !== undefined ? Number(run.node_uid) : undefined),
    probeTarget: probeUid,
    delayBeforeKillMs: 0,
    writeMs: run.start_time ? Date.parse(run.start_time) - killedAt : Number.NaN,
    writeSeenMs,
    masterSeenMs,
    probeStatus: run.status,
  };
}
