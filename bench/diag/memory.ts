/**
 * Diagnostics: where an idle node's RSS goes, and what V8's young-generation size does to it.
 * - Loading code: RSS of a bare `node` that only imports a module graph, after a full GC.
 * - A node's own split (memory-preload.ts, with --expose-gc): V8 heap used and reserved, before and
 *   after a full GC, on first start (certificate generated) and after a restart (certificate kept).
 * - What-if: idle RSS, RSS under GET load and GET throughput with a smaller V8 young generation
 *   (`--max-semi-space-size`) and with glibc's mmap threshold pinned (`MALLOC_MMAP_THRESHOLD_`).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { adminAuth } from '../../test/helpers/in-process-node.js';
import type { ProcessCluster } from '../../test/helpers/process-cluster.js';
import { sleep, startCluster, waitAgreedMaster } from '../lib/cluster.js';
import { HttpClient } from '../lib/http.js';
import { load } from '../lib/load.js';
import { RssSampler, rssMB } from '../lib/proc.js';
import { median, round } from '../lib/stats.js';
import type { MemoryReport } from './memory-preload.js';

export interface MemoryDiagResult {
  /** RSS after a full GC of a process that only imported the module, MB. */
  readonly importCost: Record<string, number>;
  /**
   * RSS (MB) of a bare node after 0, 1, 2 and then 2 more concurrent scrypt hashes with Bosun's
   * parameters (N 16384, r 8: 16 MB each) and a full GC, with glibc's defaults and with the mmap
   * threshold pinned.
   */
  readonly scryptRetention: Record<string, number[]>;
  readonly firstStart: { readonly rss: number[]; readonly reports: MemoryReport[] };
  readonly restart: { readonly rss: number; readonly report: MemoryReport | undefined };
  readonly whatIf: {
    /** The environment the nodes ran with (NODE_OPTIONS and glibc malloc settings). */
    readonly nodeOptions: string;
    readonly idleRss: number;
    readonly restartRss: number;
    readonly loadRss: number;
    readonly rps: number;
  }[];
}

function importRss(specifier: string | undefined): number {
  const code = `${specifier ? `await import(${JSON.stringify(specifier)});` : ''} globalThis.gc();
    process.stdout.write(String(process.memoryUsage().rss));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
    encoding: 'utf8',
  });
  return round(Number(out) / 1e6, 1);
}

function scryptRss(env: Record<string, string>): number[] {
  const code = `const { scrypt } = require('node:crypto');
    const rss = () => Math.round(process.memoryUsage().rss / 1e5) / 10;
    const once = () => new Promise((r) => scrypt('pw', 'salt', 32, { N: 16384, r: 8, p: 1, maxmem: 256 * 16384 * 8 }, r));
    (async () => { const out = []; gc(); out.push(rss()); await once(); gc(); out.push(rss()); await once(); gc();
      out.push(rss()); await Promise.all([once(), once()]); gc(); out.push(rss()); process.stdout.write(JSON.stringify(out)); })();`;
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return JSON.parse(out) as number[];
}

async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function report(dir: string, pid: number): Promise<MemoryReport | undefined> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGWINCH');
  for (let i = 0; i < 100; i++) {
    const f = (await readdir(dir)).find(
      (x) => !before.has(x) && x.startsWith(`mem-${pid}-`) && x.endsWith('.json'),
    );
    if (f) return JSON.parse(await readFile(join(dir, f), 'utf8')) as MemoryReport;
    await sleep(50);
  }
  return undefined;
}

async function restartNode(cluster: ProcessCluster, env: Record<string, string>): Promise<number> {
  const node = cluster.node(1);
  await node.signal('SIGKILL');
  await withEnv(env, async () => node.start());
  await sleep(8000);
  return node.pid!;
}

export async function runMemoryDiag(dir: string, log: (line: string) => void): Promise<MemoryDiagResult> {
  const dist = new URL('../../', import.meta.url);
  const importCost: Record<string, number> = {
    'node (nothing imported)': importRss(undefined),
    'src/store/sqlite/sqlite-store': importRss(new URL('src/store/sqlite/sqlite-store.js', dist).href),
    'src/store/etcd/etcd-store': importRss(new URL('src/store/etcd/etcd-store.js', dist).href),
    'src/node/tls (selfsigned)': importRss(new URL('src/node/tls.js', dist).href),
    'src/api/server (fastify, typebox, jose)': importRss(new URL('src/api/server.js', dist).href),
    'src/node/node (everything a node loads)': importRss(new URL('src/node/node.js', dist).href),
  };
  log(`  memory: import cost ${JSON.stringify(importCost)}`);
  const scryptRetention = {
    'glibc defaults': scryptRss({}),
    'MALLOC_MMAP_THRESHOLD_=131072': scryptRss({ MALLOC_MMAP_THRESHOLD_: '131072' }),
  };
  log(`  memory: RSS after 0, 1, 2, 2+2 concurrent scrypt hashes ${JSON.stringify(scryptRetention)}`);

  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const preload = new URL('./memory-preload.js', import.meta.url).href;
  const env = { NODE_OPTIONS: `--expose-gc --import=${preload}`, BOSUN_MEMORY_DIR: dir };
  const cluster = await withEnv(env, () => startCluster('sqlite', undefined));
  let firstStart: MemoryDiagResult['firstStart'];
  let restart: MemoryDiagResult['restart'];
  try {
    await sleep(8000);
    const rss = cluster.nodes.map((n) => round(rssMB(n.pid!) ?? Number.NaN, 1));
    const reports: MemoryReport[] = [];
    for (const n of cluster.nodes) {
      const r = await report(dir, n.pid!);
      if (r) reports.push(r);
    }
    firstStart = { rss, reports };
    const pid = await restartNode(cluster, env);
    restart = { rss: round(rssMB(pid) ?? Number.NaN, 1), report: await report(dir, pid) };
  } finally {
    await cluster.destroy();
  }
  log(`  memory: first start ${JSON.stringify(firstStart.rss)} MB, restart ${restart.rss} MB`);

  const whatIf: MemoryDiagResult['whatIf'][number][] = [];
  // MALLOC_MMAP_THRESHOLD_ pins glibc's mmap threshold: without it, the first freed 16 MB scrypt buffer
  // raises the threshold and later ones come from the heap, where they stay resident after free.
  const variants: Record<string, string>[] = [
    {},
    { NODE_OPTIONS: '--max-semi-space-size=1' },
    { NODE_OPTIONS: '--max-semi-space-size=2' },
    { NODE_OPTIONS: '--max-semi-space-size=4' },
    { MALLOC_MMAP_THRESHOLD_: '131072' },
    { MALLOC_MMAP_THRESHOLD_: '131072', NODE_OPTIONS: '--max-semi-space-size=2' },
  ];
  for (const e of variants) {
    const nodeOptions = Object.entries(e)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const c = await withEnv(e, () => startCluster('sqlite', undefined));
    const http = new HttpClient();
    try {
      await sleep(8000);
      const idleRss = round(median(c.nodes.map((n) => rssMB(n.pid!) ?? Number.NaN)), 1);
      const restartPid = await restartNode(c, e);
      const restartRss = round(rssMB(restartPid) ?? Number.NaN, 1);
      const master = await waitAgreedMaster(http, c);
      const node = c.node(master);
      const sampler = new RssSampler(node.pid!, 100);
      const r = await load({
        url: `${node.url}/v1/cluster/actions`,
        connections: 50,
        durationS: 5,
        headers: { authorization: adminAuth },
      });
      const loadRss = round(Math.max(...sampler.stop()), 1);
      whatIf.push({ nodeOptions, idleRss, restartRss, loadRss, rps: r.rps2xx });
      log(
        `  memory: ${nodeOptions || '(defaults)'}: idle ${idleRss}, restart ${restartRss}, load ${loadRss} MB, ${r.rps2xx} req/s`,
      );
    } finally {
      http.close();
      await c.destroy();
    }
  }
  return { importCost, scryptRetention, firstStart, restart, whatIf };
}
