/**
 * Diagnostics: CPU profiles (`node --cpu-prof`) of a node process under two workloads where the time
 * is spent on the CPU, summarized by function:
 * - `list`: sequential GET /v1/actions with 10,000 retained runs;
 * - `api`: autocannon GETs of the three API paths at 50 connections.
 * The profile covers the node's whole life; the workload dominates it by design. The node is stopped
 * with SIGTERM so that it writes the profile.
 */
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { ClusterKeys } from '../../src/cluster/keys.js';
import { openStore } from '../../src/store/open-store.js';
import { adminAuth } from '../../test/helpers/in-process-node.js';
import { API_PATHS } from '../api.js';
import { sleep, startCluster, waitAgreedMaster } from '../lib/cluster.js';
import { HttpClient } from '../lib/http.js';
import { load } from '../lib/load.js';
import { addRuns } from '../scale.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';

export interface ProfileResult {
  readonly workload: string;
  readonly description: string;
  readonly profile: ProfileSummary;
  readonly file: string;
}

const preload = new URL('./profiler-preload.js', import.meta.url).href;

/** Starts a cluster whose nodes carry the profiler preload; `window` profiles one node during `work`. */
async function profiled<T>(
  dir: string,
  work: (
    cluster: Awaited<ReturnType<typeof startCluster>>,
    http: HttpClient,
    window: (uid: number, during: () => Promise<void>) => Promise<string>,
  ) => Promise<T>,
): Promise<T> {
  await mkdir(dir, { recursive: true });
  const saved = { options: process.env.NODE_OPTIONS, dir: process.env.BOSUN_CPU_PROFILE_DIR };
  process.env.NODE_OPTIONS = `${saved.options ?? ''} --import=${preload}`.trim();
  process.env.BOSUN_CPU_PROFILE_DIR = dir;
  let cluster;
  try {
    cluster = await startCluster('sqlite', undefined);
  } finally {
    for (const [k, v] of [
      ['NODE_OPTIONS', saved.options],
      ['BOSUN_CPU_PROFILE_DIR', saved.dir],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const http = new HttpClient();
  const c = cluster;
  const window = async (uid: number, during: () => Promise<void>): Promise<string> => {
    const node = c.node(uid);
    const before = new Set(readdirSync(dir));
    await node.signal('SIGUSR2');
    await sleep(100);
    await during();
    await node.signal('SIGUSR2');
    for (let i = 0; i < 200; i++) {
      const done = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.cpuprofile.done'));
      if (done) return join(dir, done.slice(0, -'.done'.length));
      await sleep(50);
    }
    throw new Error(`node ${uid} wrote no CPU profile in ${dir}`);
  };
  try {
    return await work(cluster, http, window);
  } finally {
    http.close();
    await cluster.destroy();
  }
}

export async function runProfiles(dir: string, log: (line: string) => void): Promise<ProfileResult[]> {
  const out: ProfileResult[] = [];

  const list = await profiled(join(dir, 'list'), async (cluster, http, window) => {
    const master = await waitAgreedMaster(http, cluster);
    const node = cluster.nodes.find((n) => n.uid !== master)!;
    const store = await openStore(cluster.store);
    await addRuns(store, new ClusterKeys('/bosun/'), 0, 10_000);
    await store.close();
    for (let i = 0; i < 300; i++) {
      const r = await http.get<{ actions: unknown[] }>(`${node.url}/v1/actions`);
      if (r.body.actions.length >= 10_000) break;
      await sleep(100);
    }
    let each = 0;
    const file = await window(node.uid, async () => {
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) await http.timeGet(`${node.url}/v1/actions`);
      each = (performance.now() - t0) / 50;
    });
    return { file, each };
  });
  out.push({
    workload: 'list',
    description: `50 sequential GET /v1/actions with 10,000 runs (${list.each.toFixed(1)} ms each)`,
    profile: summarizeProfile(list.file),
    file: list.file,
  });
  log(`  profile list: ${list.file}`);

  for (const path of API_PATHS) {
    const api = await profiled(join(dir, 'api'), async (cluster, http, window) => {
      // One completed hand-over first, as in the API benchmark, so every path answers 200.
      const first = await waitAgreedMaster(http, cluster);
      const to = cluster.nodes.find((n) => n.uid !== first)!.uid;
      const run = await http.request<{ action_uid: string }>(
        'POST',
        `${cluster.node(first).url}/v1/cluster/actions/change_master`,
        { node_uid: String(to) },
      );
      for (let i = 0; i < 500; i++) {
        const r = await http.get<{ status: string }>(
          `${cluster.node(first).url}/v1/actions/${run.body.action_uid}`,
        );
        if (r.body.status === 'completed' || r.body.status === 'failed') break;
        await sleep(10);
      }
      const master = await waitAgreedMaster(http, cluster);
      let rps = 0;
      const file = await window(master, async () => {
        const r = await load({
          url: `${cluster.node(master).url}${path}`,
          connections: 50,
          durationS: 5,
          headers: { authorization: adminAuth },
        });
        rps = r.rps2xx;
      });
      return { file, rps };
    });
    out.push({
      workload: `api ${path}`,
      description: `autocannon GET ${path}, 50 connections, 5 s, on the master (${api.rps} req/s)`,
      profile: summarizeProfile(api.file),
      file: api.file,
    });
    log(`  profile GET ${path}: ${api.file}`);
  }
  return out;
}
