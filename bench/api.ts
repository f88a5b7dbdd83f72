/**
 * API: GET throughput and latency of one node against a bare Fastify server serving the same bodies,
 * measured in alternating rounds in one run; the node's memory idle and under that load; and the POST
 * path under contention.
 *
 * - The cluster: 3 nodes on SQLite (reads are served from the in-memory view, so the store does not
 *   matter to GETs), with one completed `change_master` run, so the bodies are not empty.
 * - The loaded node is the master. Auth is HTTP Basic with the admin's credentials on every request.
 * - Rounds alternate the order (Bosun then bare, then bare then Bosun, ...); the headline is the median
 *   over rounds, and the ratio is Bosun's median over bare's.
 * - Memory: VmRSS of each node, sampled every 100 ms, idle (after the cluster settled) and during the
 *   Bosun GET rounds.
 * - Contention: autocannon POSTs `change_master` with a random target to all three nodes at once
 *   (`contentionConnections` in all); every 200 is a run that a master then executes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { adminAuth } from '../test/helpers/in-process-node.js';
import type { ProcessCluster } from '../test/helpers/process-cluster.js';
import { pick, sleep, startCluster, waitAgreedMaster } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { load, type LoadResult } from './lib/load.js';
import { cpuMs, peakRssMB, RssSampler } from './lib/proc.js';
import { median, round, roundSummary, summarize, type Summary } from './lib/stats.js';

export const API_PATHS = ['/v1/cluster/actions', '/v1/cluster/actions/change_master', '/v1/nodes/status'];

export interface ApiSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly connections: number;
  readonly idleSampleS: number;
  readonly contentionDurationS: number;
  readonly contentionConnections: number;
}

export interface ApiRound {
  readonly round: number;
  readonly bosun: LoadResult & { readonly cpuMsPerRequest: number };
  readonly bare: LoadResult & { readonly cpuMsPerRequest: number };
}

export interface ApiEndpointResult {
  readonly path: string;
  readonly bodyBytes: number;
  readonly rounds: ApiRound[];
  readonly bosun: { readonly rps: number; readonly p50: number; readonly p99: number };
  readonly bare: { readonly rps: number; readonly p50: number; readonly p99: number };
  /** Bosun's median req/s over bare's. */
  readonly ratio: number;
  readonly pairedRatios: number[];
}

export interface MemoryResult {
  /** Median VmRSS of each node while idle, MB. */
  readonly idleByNode: Record<string, number>;
  readonly idleMedian: number;
  /** The loaded node during the GET rounds, MB. */
  readonly loadedNode: number;
  readonly underLoad: Summary;
  readonly peakHwm: number | undefined;
  /** The bare Fastify server, idle and under load, for scale. */
  readonly bareIdle: number;
  readonly bareUnderLoad: Summary;
}

export interface ContentionResult {
  readonly durationS: number;
  readonly connections: number;
  readonly requests: number;
  readonly statusCounts: Record<string, number>;
  readonly share200: number;
  readonly share409: number;
  /** Anything but 200 and 409, plus socket errors and timeouts, over all attempts. */
  readonly errorRate: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly latency: Summary;
  /** What became of the accepted runs. */
  readonly runs: {
    readonly accepted: number;
    readonly found: number;
    readonly completed: number;
    readonly noop: number;
    readonly handovers: number;
    readonly failed: number;
    readonly failures: Record<string, number>;
    /** Distinct error messages of the failed runs (at most 5). */
    readonly failureMessages: string[];
  };
  /**
   * The master epoch before and after, and the master changes that no completed hand-over accounts for
   * (`elections`: a hand-over whose run was recorded as failed, or a real election).
   */
  readonly epochs: {
    readonly before: number | undefined;
    readonly after: number | undefined;
    readonly elections: number | undefined;
  };
}

/**
 * Every master change over the whole section (GET load on the master, then POST contention), from the
 * nodes' own logs: the fast failover (on by default) must never replace a master that is merely busy.
 */
export interface MasterChanges {
  /** The nodes' `--fast-failover` mode. */
  readonly fastFailover: string;
  /** Ordinary elections after the first one (a master's lease ran out). */
  readonly elections: number;
  /** Forced take-overs by the fast failover. */
  readonly forced: number;
  /** Requested hand-overs (`change_master`). */
  readonly handovers: number;
}

export interface ApiResult {
  readonly loadedNode: number;
  readonly endpoints: ApiEndpointResult[];
  readonly memory: MemoryResult;
  readonly contention: ContentionResult;
  readonly masterChanges?: MasterChanges;
}

/** Counts master changes in the cluster's node logs (one JSON object per line, see src/log.ts). */
function countMasterChanges(cluster: ProcessCluster): MasterChanges {
  let elections = 0;
  let forced = 0;
  let handovers = 0;
  const dir = join(cluster.dataDir, 'logs');
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      let msg: unknown;
      try {
        msg = (JSON.parse(line) as { msg?: unknown }).msg;
      } catch {
        continue;
      }
      if (typeof msg !== 'string') continue;
      if (msg.endsWith(' elected master')) elections++;
      else if (msg.includes('replaced dead master')) forced++;
      else if (msg.endsWith(' took over as master')) handovers++;
    }
  }
  return {
    fastFailover: cluster.fastFailover ?? 'on',
    elections: Math.max(0, elections - 1),
    forced,
    handovers,
  };
}

const bareScript = fileURLToPath(new URL('./bare-server.js', import.meta.url));

async function startBare(bodiesPath: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = fork(bareScript, [bodiesPath, '0'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('message', (m: { type: string; port: number }) => resolve(m.port));
    proc.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

interface WireRun {
  readonly action_uid: string;
  readonly status: string;
  readonly error_code?: string;
  readonly error_message?: string;
  readonly outcome?: { readonly noop?: boolean; readonly epoch?: number };
}

async function waitForRun(http: HttpClient, url: string, uid: string): Promise<WireRun> {
  for (;;) {
    const res = await http.get<WireRun>(`${url}/v1/actions/${uid}`);
    if (res.status === 200 && ['completed', 'failed', 'cancelled'].includes(res.body.status)) return res.body;
    await sleep(5);
  }
}

export async function runApi(
  settings: ApiSettings,
  scratch: string,
  log: (line: string) => void,
): Promise<ApiResult> {
  const cluster = await startCluster('sqlite', undefined);
  const http = new HttpClient();
  let bare: { proc: ChildProcess; url: string } | undefined;
  try {
    // One real hand-over, so /v1/cluster/actions has a run to show.
    const first = await waitAgreedMaster(http, cluster);
    const to = pick(cluster.nodes.filter((n) => n.uid !== first)).uid;
    const posted = await http.request<WireRun>(
      'POST',
      `${cluster.node(first).url}/v1/cluster/actions/change_master`,
      { node_uid: String(to) },
    );
    await waitForRun(http, cluster.node(first).url, posted.body.action_uid);
    const master = await waitAgreedMaster(http, cluster, { is: to });
    const node = cluster.node(master);

    const bodies: Record<string, unknown> = {};
    const bodyBytes: Record<string, number> = {};
    for (const path of API_PATHS) {
      const res = await http.get(`${node.url}${path}`);
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
      bodies[path] = res.body;
      bodyBytes[path] = res.bytes;
    }
    const bodiesPath = join(scratch, 'bodies.json');
    writeFileSync(bodiesPath, JSON.stringify(bodies));
    bare = await startBare(bodiesPath);

    // Idle memory, once everything has settled.
    await sleep(3000);
    const idleSamplers = cluster.nodes.map((n) => new RssSampler(n.pid!, 100));
    const bareIdleSampler = new RssSampler(bare.proc.pid!, 100);
    await sleep(settings.idleSampleS * 1000);
    const idleByNode: Record<string, number> = {};
    cluster.nodes.forEach((n, i) => (idleByNode[String(n.uid)] = round(median(idleSamplers[i]!.stop()), 1)));
    const bareIdle = round(median(bareIdleSampler.stop()), 1);
    log(`  idle RSS per node (MB): ${JSON.stringify(idleByNode)}; bare Fastify ${bareIdle}`);

    const headers = { authorization: adminAuth };
    const loadedRss: number[] = [];
    const bareRss: number[] = [];
    const endpoints: ApiEndpointResult[] = [];
    for (const path of API_PATHS) {
      const targets = {
        bosun: { url: `${node.url}${path}`, pid: node.pid!, rss: loadedRss },
        bare: { url: `${bare.url}${path}`, pid: bare.proc.pid!, rss: bareRss },
      };
      for (const t of Object.values(targets)) {
        await load({ url: t.url, connections: settings.connections, durationS: settings.warmupS, headers });
      }
      const rounds: ApiRound[] = [];
      for (let r = 0; r < settings.rounds; r++) {
        const order = r % 2 === 0 ? (['bosun', 'bare'] as const) : (['bare', 'bosun'] as const);
        const got: Partial<Record<'bosun' | 'bare', ApiRound['bosun']>> = {};
        for (const which of order) {
          const t = targets[which];
          const sampler = new RssSampler(t.pid, 100);
          const cpu0 = cpuMs(t.pid) ?? 0;
          const res = await load({
            url: t.url,
            connections: settings.connections,
            durationS: settings.durationS,
            headers,
          });
          const cpu = (cpuMs(t.pid) ?? 0) - cpu0;
          t.rss.push(...sampler.stop());
          got[which] = { ...res, cpuMsPerRequest: round(cpu / Math.max(1, res.responses), 4) };
          await sleep(500);
        }
        rounds.push({ round: r, bosun: got.bosun!, bare: got.bare! });
      }
      const figures = (which: 'bosun' | 'bare') => ({
        rps: Math.round(median(rounds.map((r) => r[which].rps2xx))),
        p50: round(median(rounds.map((r) => r[which].latency.median)), 3),
        p99: round(median(rounds.map((r) => r[which].latency.p99)), 3),
      });
      const bosun = figures('bosun');
      const bareF = figures('bare');
      endpoints.push({
        path,
        bodyBytes: bodyBytes[path]!,
        rounds,
        bosun,
        bare: bareF,
        ratio: round(bosun.rps / bareF.rps, 3),
        pairedRatios: rounds.map((r) => round(r.bosun.rps2xx / r.bare.rps2xx, 3)),
      });
      log(
        `  GET ${path}: Bosun ${bosun.rps} req/s p99 ${bosun.p99} ms; bare ${bareF.rps} req/s p99 ` +
          `${bareF.p99} ms; ratio ${round(bosun.rps / bareF.rps, 3)}`,
      );
    }

    const memory: MemoryResult = {
      idleByNode,
      idleMedian: round(median(Object.values(idleByNode)), 1),
      loadedNode: node.uid,
      underLoad: roundSummary(summarize(loadedRss), 1),
      peakHwm: peakRssMB(node.pid!),
      bareIdle,
      bareUnderLoad: roundSummary(summarize(bareRss), 1),
    };

    const contention = await runContention(cluster, http, settings, log);
    const masterChanges = countMasterChanges(cluster);
    log(
      `  master changes over the section: ${masterChanges.handovers} requested hand-overs, ` +
        `${masterChanges.elections} elections, ${masterChanges.forced} forced take-overs (fast failover ${masterChanges.fastFailover})`,
    );
    return { loadedNode: node.uid, endpoints, memory, contention, masterChanges };
  } finally {
    bare?.proc.kill('SIGKILL');
    http.close();
    await cluster.destroy();
  }
}

async function runContention(
  cluster: ProcessCluster,
  http: HttpClient,
  settings: ApiSettings,
  log: (line: string) => void,
): Promise<ContentionResult> {
  await waitAgreedMaster(http, cluster);
  const latest = await http.get<WireRun>(`${cluster.nodes[0]!.url}/v1/cluster/actions/change_master`);
  const epochBefore = latest.status === 200 ? latest.body.outcome?.epoch : undefined;
  const before = new Set(
    (await http.get<{ actions: WireRun[] }>(`${cluster.nodes[0]!.url}/v1/actions`)).body.actions.map(
      (r) => r.action_uid,
    ),
  );
  const per = cluster.nodes.map(
    (_, i) =>
      Math.floor(settings.contentionConnections / 3) + (i < settings.contentionConnections % 3 ? 1 : 0),
  );
  const uids = cluster.nodes.map((n) => n.uid);
  const results = await Promise.all(
    cluster.nodes.map((n, i) =>
      load({
        url: `${n.url}/v1/cluster/actions/change_master`,
        connections: per[i]!,
        durationS: settings.contentionDurationS,
        headers: { authorization: adminAuth },
        method: 'POST',
        body: () => JSON.stringify({ node_uid: String(pick(uids)) }),
        keepTimes: true,
      }),
    ),
  );
  const statusCounts: Record<string, number> = {};
  for (const r of results) {
    for (const [code, count] of Object.entries(r.statusCounts)) {
      statusCounts[code] = (statusCounts[code] ?? 0) + count;
    }
  }
  const responses = results.reduce((s, r) => s + r.responses, 0);
  const errors = results.reduce((s, r) => s + r.errors, 0);
  const timeouts = results.reduce((s, r) => s + r.timeouts, 0);
  const attempts = responses + errors;
  const ok = statusCounts['200'] ?? 0;
  const conflicts = statusCounts['409'] ?? 0;
  const other = responses - ok - conflicts;

  // Let the last accepted run finish, then account for every accepted run.
  await sleep(1000);
  await waitAgreedMaster(http, cluster, { timeoutMs: 60_000 });
  const list = async (): Promise<WireRun[]> =>
    (await http.get<{ actions: WireRun[] }>(`${cluster.nodes[0]!.url}/v1/actions`)).body.actions.filter(
      (r) => !before.has(r.action_uid),
    );
  let created = await list();
  for (
    let i = 0;
    i < 100 && created.some((r) => !['completed', 'failed', 'cancelled'].includes(r.status));
    i++
  ) {
    await sleep(100);
    created = await list();
  }
  const failures: Record<string, number> = {};
  for (const r of created) {
    if (r.status === 'failed') failures[r.error_code ?? '?'] = (failures[r.error_code ?? '?'] ?? 0) + 1;
  }
  const completed = created.filter((r) => r.status === 'completed');
  const handovers = completed.filter((r) => r.outcome?.noop !== true).length;
  const epochs = created.map((r) => r.outcome?.epoch ?? 0);
  const epochAfter = epochs.length > 0 ? Math.max(...epochs) : undefined;
  const result: ContentionResult = {
    durationS: settings.contentionDurationS,
    connections: settings.contentionConnections,
    requests: attempts,
    statusCounts,
    share200: round(ok / Math.max(1, attempts), 4),
    share409: round(conflicts / Math.max(1, attempts), 4),
    errorRate: round((other + errors) / Math.max(1, attempts), 4),
    errors,
    timeouts,
    latency: roundSummary(summarize(results.flatMap((r) => r.times ?? [])), 3),
    runs: {
      accepted: ok,
      found: created.length,
      completed: completed.length,
      noop: completed.filter((r) => r.outcome?.noop === true).length,
      handovers,
      failed: created.filter((r) => r.status === 'failed').length,
      failures,
      failureMessages: [
        ...new Set(created.filter((r) => r.status === 'failed').map((r) => r.error_message ?? '?')),
      ].slice(0, 5),
    },
    epochs: {
      before: epochBefore,
      after: epochAfter,
      elections:
        epochBefore !== undefined && epochAfter !== undefined
          ? epochAfter - epochBefore - handovers
          : undefined,
    },
  };
  log(
    `  POST contention: ${attempts} requests, ${JSON.stringify(statusCounts)}, errors ${errors}, ` +
      `runs ${JSON.stringify(result.runs)}`,
  );
  return result;
}
