/**
 * Hand-over: `change_master` between varying nodes, on SQLite and on a 3-member etcd, side by side with
 * the floor (the same intent hand-over done by bare peers, floor.ts).
 *
 * For each run:
 * - the client is one of the three nodes, in turn; the target a random node other than the master;
 * - (a) POST to completed: the client POSTs and then polls GET /v1/actions/<uid> on the same node every
 *   `pollMs` until the run is terminal, on a kept-alive connection; the time runs from just before the
 *   POST to the poll response that shows `completed`;
 * - (b) the no-master window and the server's own figures come from the run's `outcome`;
 * - the breakdown places the run's recorded timestamps (`start_time`, `end_time`, same host clock) on
 *   the client's timeline;
 * - (c) right after each Bosun run, one floor hand-over (bare etcd3 client) and one through Bosun's
 *   store layer, on the same etcd (or, for SQLite, the store layer on a SQLite file), in rotating order.
 * Before the next run every node must report the new master.
 */
import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import type { ProcessCluster } from '../test/helpers/process-cluster.js';
import { FloorCluster, type FloorRun } from './floor.js';
import { startCluster, pick, sleep, waitAgreedMaster, type StoreKind } from './lib/cluster.js';
import { HttpClient } from './lib/http.js';
import { roundSummary, summarize, type Summary } from './lib/stats.js';

export interface HandoverSettings {
  readonly runs: number;
  readonly warmup: number;
  readonly pollMs: number;
  /** Pause between runs once every node reports the new master, in ms. */
  readonly settleMs: number;
}

interface RunOutcome {
  readonly old_master?: string;
  readonly new_master?: string;
  readonly epoch?: number;
  readonly handover_ms?: number;
  readonly no_master_window_ms?: number;
  readonly server_total_ms?: number;
}

interface WireRun {
  readonly action_uid: string;
  readonly status: string;
  readonly start_time?: string;
  readonly end_time?: string;
  readonly outcome?: RunOutcome;
  readonly error_code?: string;
  readonly error_message?: string;
}

export interface HandoverSample {
  readonly from: number;
  readonly to: number;
  readonly client: number;
  readonly status: string;
  readonly error?: string;
  /** (a) POST sent to the poll that showed the run completed, ms. */
  readonly postToCompletedMs: number;
  readonly postMs: number;
  readonly polls: number;
  readonly outcome: RunOutcome | undefined;
  /** POST sent to the run's recorded start_time (the master claimed it), ms (1 ms resolution). */
  readonly claimAtMs: number;
  /** POST sent to the run's recorded end_time (the new master confirmed), ms. */
  readonly endAtMs: number;
}

export interface FloorSample extends FloorRun {
  readonly flavour: string;
}

export interface StoreHandoverResult {
  readonly store: StoreKind;
  readonly samples: HandoverSample[];
  readonly floor: { readonly flavour: string; readonly samples: FloorSample[] }[];
  readonly failed: number;
  readonly summary: {
    readonly postToCompleted: Summary;
    readonly noMasterWindow: Summary;
    readonly serverHandover: Summary;
    readonly serverTotal: Summary;
    readonly post: Summary;
    readonly claimAt: Summary;
    readonly endAt: Summary;
    readonly polls: Summary;
    readonly floor: Record<
      string,
      { total: Summary; intent: Summary; intentSeen: Summary; takenOver: Summary }
    >;
  };
  /** (a) median / floor median, per floor flavour. */
  readonly ratioToFloor: Record<string, number>;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export async function oneHandover(
  http: HttpClient,
  cluster: ProcessCluster,
  clientUid: number,
  settings: HandoverSettings,
): Promise<HandoverSample> {
  const from = await waitAgreedMaster(http, cluster);
  const to = pick(cluster.nodes.filter((n) => n.uid !== from)).uid;
  const client = cluster.node(clientUid);
  const t0Wall = Date.now();
  const t0 = performance.now();
  const post = await http.request<WireRun>('POST', `${client.url}/v1/cluster/actions/change_master`, {
    node_uid: String(to),
  });
  const postMs = performance.now() - t0;
  if (post.status !== 200) {
    return {
      from,
      to,
      client: clientUid,
      status: `http_${post.status}`,
      error: JSON.stringify(post.body),
      postToCompletedMs: Number.NaN,
      postMs,
      polls: 0,
      outcome: undefined,
      claimAtMs: Number.NaN,
      endAtMs: Number.NaN,
    };
  }
  const uid = post.body.action_uid;
  let run = post.body;
  let polls = 0;
  let doneMs = Number.NaN;
  while (!TERMINAL.has(run.status)) {
    await sleep(settings.pollMs);
    const res = await http.get<WireRun>(`${client.url}/v1/actions/${uid}`);
    polls++;
    if (res.status === 200) run = res.body;
    doneMs = performance.now() - t0;
    if (doneMs > 15_000) break;
  }
  const at = (iso: string | undefined): number => (iso ? Date.parse(iso) - t0Wall : Number.NaN);
  // Every node reports the new master before the next run starts.
  if (run.status === 'completed') await waitAgreedMaster(http, cluster, { is: to, intervalMs: 2 });
  else await waitAgreedMaster(http, cluster);
  return {
    from,
    to,
    client: clientUid,
    status: run.status,
    ...(run.status === 'completed' ? {} : { error: `${run.error_code}: ${run.error_message}` }),
    postToCompletedMs: run.status === 'completed' ? doneMs : Number.NaN,
    postMs,
    polls,
    outcome: run.outcome,
    claimAtMs: at(run.start_time),
    endAtMs: at(run.end_time),
  };
}

export async function handoverOnStore(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  sqliteFloorUrl: string,
  settings: HandoverSettings,
  log: (line: string) => void,
): Promise<StoreHandoverResult> {
  const cluster = await startCluster(kind, etcd);
  const http = new HttpClient();
  const floors: FloorCluster[] = [];
  try {
    if (kind === 'etcd') {
      floors.push(await FloorCluster.start('etcd3', etcd!.endpoints.join(','), 'bare etcd3'));
      floors.push(await FloorCluster.start('store', etcd!.url(), 'Bosun store layer'));
    } else {
      floors.push(await FloorCluster.start('store', sqliteFloorUrl, 'Bosun store layer'));
    }
    const samples: HandoverSample[] = [];
    const floorSamples = new Map<string, FloorSample[]>(floors.map((f) => [f.label, []]));
    const total = settings.warmup + settings.runs;
    for (let i = 0; i < total; i++) {
      const clientUid = cluster.nodes[i % cluster.nodes.length]!.uid;
      // Rotate the order of Bosun and the floors, so none always runs first after a pause.
      const order = [...Array(floors.length + 1).keys()];
      for (let r = 0; r < i % order.length; r++) order.push(order.shift()!);
      for (const which of order) {
        if (which === floors.length) {
          const s = await oneHandover(http, cluster, clientUid, settings).catch(
            (err: unknown): HandoverSample => ({
              from: 0,
              to: 0,
              client: clientUid,
              status: 'bench_error',
              error: err instanceof Error ? err.message : String(err),
              postToCompletedMs: Number.NaN,
              postMs: Number.NaN,
              polls: 0,
              outcome: undefined,
              claimAtMs: Number.NaN,
              endAtMs: Number.NaN,
            }),
          );
          if (i >= settings.warmup) samples.push(s);
          if (s.status !== 'completed') log(`  ${kind}: run ${i} ${s.status}: ${s.error ?? ''}`);
        } else {
          const f = floors[which]!;
          const run = await f.handOver();
          if (i >= settings.warmup) floorSamples.get(f.label)!.push({ ...run, flavour: f.label });
        }
        await sleep(settings.settleMs);
      }
      if ((i + 1) % 25 === 0) log(`  ${kind}: ${i + 1}/${total} runs`);
    }
    const ok = samples.filter((s) => s.status === 'completed');
    const postToCompleted = summarize(ok.map((s) => s.postToCompletedMs));
    const floor: StoreHandoverResult['summary']['floor'] = {};
    const ratioToFloor: Record<string, number> = {};
    for (const [label, fs] of floorSamples) {
      const total = summarize(fs.map((s) => s.totalMs));
      floor[label] = {
        total: roundSummary(total),
        intent: roundSummary(summarize(fs.map((s) => s.intentMs))),
        intentSeen: roundSummary(summarize(fs.map((s) => s.intentSeenMs))),
        takenOver: roundSummary(summarize(fs.map((s) => s.takenOverMs))),
      };
      ratioToFloor[label] = Math.round((postToCompleted.median / total.median) * 100) / 100;
    }
    return {
      store: kind,
      samples,
      floor: [...floorSamples].map(([flavour, s]) => ({ flavour, samples: s })),
      failed: samples.length - ok.length,
      summary: {
        postToCompleted: roundSummary(postToCompleted),
        noMasterWindow: roundSummary(summarize(ok.map((s) => s.outcome?.no_master_window_ms ?? Number.NaN))),
        serverHandover: roundSummary(summarize(ok.map((s) => s.outcome?.handover_ms ?? Number.NaN))),
        serverTotal: roundSummary(summarize(ok.map((s) => s.outcome?.server_total_ms ?? Number.NaN))),
        post: roundSummary(summarize(ok.map((s) => s.postMs))),
        claimAt: roundSummary(summarize(ok.map((s) => s.claimAtMs))),
        endAt: roundSummary(summarize(ok.map((s) => s.endAtMs))),
        polls: roundSummary(summarize(ok.map((s) => s.polls))),
        floor,
      },
      ratioToFloor,
    };
  } finally {
    for (const f of floors) await f.stop();
    http.close();
    await cluster.destroy();
  }
}
