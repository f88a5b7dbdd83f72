/**
 * Live actions (issue 10), side by side in one run, on SQLite and on a 3-member etcd:
 * - hand-over latency: POST change_master → the client sees `completed`, three ways in rotation on the
 *   same cluster: today's 1 ms polling of GET /v1/actions/{uid}, the run's SSE stream, and one
 *   GET ?wait=30s;
 * - event delivery: a user write acknowledged by node A → the `user` event on an SSE client of node B
 *   (and from the request's send), p50/p99;
 * - resources: RSS and CPU of one node with 0, 100 and 200 open streams (idle with heartbeats, and
 *   while events flow), and a slow reader that never reads while events flow past it.
 */
import { HttpClient } from './lib/http.js';
import { startCluster, sleep, waitAgreedMaster, type StoreKind } from './lib/cluster.js';
import { cpuMs, rssMB } from './lib/proc.js';
import { roundSummary, summarize, type Summary } from './lib/stats.js';
import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import type { ClusterNode, ProcessCluster } from '../test/helpers/process-cluster.js';
import { openStream, type OpenStream } from '../test/helpers/sse-stream.js';
import { adminAuth } from '../test/helpers/in-process-node.js';

export interface LiveSettings {
  /** Hand-overs per method. */
  readonly handovers: number;
  readonly deliveries: number;
  readonly streams: number;
  /** Events sent past the slow reader (more than the window it is given). */
  readonly slowEvents: number;
}

type Method = 'poll_1ms' | 'sse' | 'wait';
const auth = { authorization: adminAuth };

async function handoverOnce(
  http: HttpClient,
  client: ClusterNode,
  target: number,
  method: Method,
): Promise<number> {
  const t0 = performance.now();
  const post = await http.request<{ action_uid: string }>(
    'POST',
    `${client.url}/v1/cluster/actions/change_master`,
    {
      node_uid: String(target),
    },
  );
  if (post.status !== 200) throw new Error(`POST: ${post.status}`);
  const uid = post.body.action_uid;
  if (method === 'wait') {
    const res = await http.request<{ status: string }>('GET', `${client.url}/v1/actions/${uid}?wait=30s`);
    if (res.status !== 200 || res.body.status !== 'completed') throw new Error(`wait: ${res.body.status}`);
  } else if (method === 'sse') {
    let done!: () => void;
    const seen = new Promise<void>((r) => (done = r));
    const s = await openStream(client.url, `/v1/actions/${uid}/events`, auth, (ev) => {
      if (ev.event === 'action' && (JSON.parse(ev.data) as { status: string }).status === 'completed') done();
    });
    await seen;
    s.close();
  } else {
    for (;;) {
      const res = await http.request<{ status: string }>('GET', `${client.url}/v1/actions/${uid}`);
      if (res.body.status === 'completed') break;
      if (res.body.status === 'failed' || res.body.status === 'cancelled') throw new Error(res.body.status);
      await sleep(1);
    }
  }
  return performance.now() - t0;
}

async function handovers(http: HttpClient, cluster: ProcessCluster, runs: number) {
  const samples: Record<Method, number[]> = { poll_1ms: [], sse: [], wait: [] };
  const methods: Method[] = ['poll_1ms', 'sse', 'wait'];
  for (let i = 0; i < runs * methods.length; i++) {
    const master = await waitAgreedMaster(http, cluster);
    const others = cluster.nodes.filter((n) => n.uid !== master);
    const target = others[i % others.length]!.uid;
    const client = cluster.nodes[i % cluster.nodes.length]!;
    // Rotating the method each run puts the three on the same cluster state, side by side.
    const method = methods[i % methods.length]!;
    samples[method].push(await handoverOnce(http, client, target, method));
    await waitAgreedMaster(http, cluster);
    await sleep(20);
  }
  return {
    poll_1ms: roundSummary(summarize(samples.poll_1ms)),
    sse: roundSummary(summarize(samples.sse)),
    wait: roundSummary(summarize(samples.wait)),
  };
}

async function token(http: HttpClient, node: ClusterNode): Promise<string> {
  const res = await http.request<{ access_token: string }>('POST', `${node.url}/v1/users/authorize`, {});
  return res.body.access_token;
}

async function delivery(http: HttpClient, cluster: ProcessCluster, n: number) {
  const [a, b] = cluster.nodes;
  const jwt = new HttpClient(`JWT ${await token(http, a!)}`);
  const created = await http.request<{ uid: number }>('POST', `${a!.url}/v1/users`, {
    name: 'bench-live',
    email: 'bench-live@example.com',
    password: 'bench-Password-1',
    role: 'cluster_viewer',
  });
  const uid = created.body.uid;
  const arrivals = new Map<string, number>();
  const s = await openStream(b!.url, '/v1/events', auth, (ev) => {
    if (ev.event === 'user') arrivals.set((JSON.parse(ev.data) as { name: string }).name, performance.now());
  });
  const fromSend: number[] = [];
  const fromAck: number[] = [];
  for (let i = 0; i < n; i++) {
    const name = `bench-live-${i}`;
    const t0 = performance.now();
    const res = await jwt.request('PUT', `${a!.url}/v1/users/${uid}`, { name });
    const tAck = performance.now();
    if (res.status !== 200) throw new Error(`PUT: ${res.status}`);
    while (!arrivals.has(name)) await sleep(0);
    fromSend.push(arrivals.get(name)! - t0);
    fromAck.push(arrivals.get(name)! - tAck);
    await sleep(5);
  }
  s.close();
  return {
    writeSentToEvent: roundSummary(summarize(fromSend)),
    writeAckedToEvent: roundSummary(summarize(fromAck)),
  };
}

/** CPU ms the node used over `ms`, and its RSS after. */
async function measure(pid: number, ms: number, during?: () => Promise<void>) {
  const c0 = cpuMs(pid)!;
  const t0 = performance.now();
  if (during) await during();
  const left = ms - (performance.now() - t0);
  if (left > 0) await sleep(left);
  return { cpuMs: cpuMs(pid)! - c0, wallMs: Math.round(performance.now() - t0), rssMB: rssMB(pid)! };
}

async function resources(http: HttpClient, cluster: ProcessCluster, settings: LiveSettings) {
  const [a, b] = cluster.nodes;
  const pid = b!.pid!;
  const burst = async () => {
    for (let i = 0; i < 50; i++) {
      await http.request('PUT', `${a!.url}/v1/users/1`, { name: `burst-${i % 2}` });
    }
  };
  const streams: OpenStream[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const count of [0, 100, settings.streams]) {
    while (streams.length < count) streams.push(await openStream(b!.url, '/v1/events', auth));
    await sleep(500);
    const idle = await measure(pid, 3000);
    const busy = await measure(pid, 0, burst);
    rows.push({ streams: count, idle, busy_50_writes: busy });
  }
  // The slow reader: a stream whose client never reads, while events flow past it.
  const rssBefore = rssMB(pid)!;
  const slow = await openStream(b!.url, '/v1/events', auth);
  slow.pause();
  const fastBefore = streams[0]!.events.length;
  for (let i = 0; i < settings.slowEvents; i++) {
    await http.request('PUT', `${a!.url}/v1/users/1`, { name: `slow-${i}-${'x'.repeat(200)}` });
  }
  await sleep(500);
  const slowResult = {
    events: settings.slowEvents,
    slowReaderClosedByServer: slow.isEnded(),
    fastReaderGotAll: streams[0]!.events.length - fastBefore >= settings.slowEvents,
    rssBeforeMB: rssBefore,
    rssAfterMB: rssMB(pid)!,
  };
  slow.close();
  for (const s of streams) s.close();
  return { rows, slowReader: slowResult };
}

export interface LiveStoreResult {
  readonly store: StoreKind;
  readonly handover: Record<Method, Summary>;
  readonly delivery: Awaited<ReturnType<typeof delivery>>;
  readonly resources: Awaited<ReturnType<typeof resources>>;
}

export async function liveOnStore(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  settings: LiveSettings,
  log: (line: string) => void,
): Promise<LiveStoreResult> {
  // A small replay window, so the slow reader's bench overruns it with few writes.
  const cluster = await startCluster(kind, etcd, {
    env: {
      BOSUN_SSE_WINDOW_EVENTS: String(Math.floor(settings.slowEvents / 2)),
      BOSUN_SSE_HEARTBEAT_MS: '1000',
    },
  });
  const http = new HttpClient();
  try {
    log(`live/${kind}: hand-overs (${settings.handovers} per method)`);
    const handover = await handovers(http, cluster, settings.handovers);
    log(`live/${kind}: delivery (${settings.deliveries} writes)`);
    const d = await delivery(http, cluster, settings.deliveries);
    log(`live/${kind}: resources (${settings.streams} streams)`);
    const r = await resources(http, cluster, settings);
    return { store: kind, handover, delivery: d, resources: r };
  } finally {
    await cluster.destroy();
  }
}
