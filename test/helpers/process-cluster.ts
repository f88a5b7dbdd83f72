/**
 * A real cluster of `bosun node` OS processes on loopback, on free ports, in a temp data folder,
 * against any store URL (SQLite by default). Integration tests kill, pause and restart its nodes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import type { ActionRun } from '../../src/actions/run.js';
import { nodeEnvironment } from '../../src/launcher/local-cluster.js';
import { parseStoreUrl } from '../../src/store/open-store.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth } from './in-process-node.js';
import { freePort } from './ports.js';

/** Whether a write transaction could start on the SQLite file now: nobody holds its write lock long. */
function writable(path: string): boolean {
  const db = new Database(path, { timeout: 1000 });
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

const defaultBin = fileURLToPath(new URL('../../../bin/bosun.js', import.meta.url));
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      );
    }
    await sleep(25);
  }
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export class ClusterNode {
  proc: ChildProcess | undefined;
  /** SIGSTOPped: alive but answering nothing. */
  paused = false;

  constructor(
    readonly uid: number,
    public httpPort: number,
    public httpsPort: number,
    private readonly cluster: ProcessCluster,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start(): void {
    const c = this.cluster;
    const logDir = join(c.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const fd = openSync(join(logDir, `node-${this.uid}.log`), 'a');
    const args = [
      c.bin,
      'node',
      '--uid',
      String(this.uid),
      '--data-dir',
      c.dataDir,
      '--store',
      c.storeFor(this.uid),
      '--http-port',
      String(this.httpPort),
      '--https-port',
      String(this.httpsPort),
      '--lease-ttl',
      String(c.leaseTtlMs),
      '--handover-timeout',
      String(c.handoverTimeoutMs),
      ...(c.fastFailover ? ['--fast-failover', c.fastFailover] : []),
      ...c.nodeArgs,
    ];
    const proc = spawn(process.execPath, args, {
      stdio: ['ignore', fd, fd],
      // As `npm start` runs its nodes (see nodeEnvironment).
      env: {
        ...nodeEnvironment(process.env),
        BOSUN_ADMIN_EMAIL: ADMIN_EMAIL,
        BOSUN_ADMIN_PASSWORD: ADMIN_PASSWORD,
        ...c.env,
      },
    });
    closeSync(fd);
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    this.proc = proc;
  }

  /** Sends a signal; for SIGKILL/SIGTERM, resolves once the process has exited. */
  /** `anywhere`: a SIGSTOP may land inside a SQLite write transaction (the chaos harness wants that). */
  async signal(sig: NodeJS.Signals, options: { anywhere?: boolean } = {}): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    if (sig === 'SIGSTOP' && !options.anywhere) return this.#pauseOutsideWrite(proc);
    if (sig === 'SIGSTOP') this.paused = true;
    const ends = sig === 'SIGKILL' || sig === 'SIGTERM' || sig === 'SIGINT';
    // Only a signal that ends the process waits for its exit (a listener per pause would pile up).
    const exited = ends ? new Promise<void>((resolve) => proc.once('exit', () => resolve())) : undefined;
    proc.kill(sig);
    if (sig === 'SIGCONT' || sig === 'SIGKILL') this.paused = false;
    await exited;
  }

  /**
   * SIGSTOP, at a moment the node holds no write transaction on a shared SQLite file. A node paused
   * inside one keeps the file locked, and every other node's writes wait on it (docs/decisions.md, "Known
   * limits"); a test that pauses a node means a paused node, not a locked store.
   * So after the stop the file is tried for a write lock, and on a busy file the node is let go for
   * a moment and stopped again. On etcd a pause is just a pause.
   */
  async #pauseOutsideWrite(proc: ChildProcess): Promise<void> {
    const location = parseStoreUrl(this.cluster.storeFor(this.uid));
    for (let attempt = 0; ; attempt++) {
      proc.kill('SIGSTOP');
      this.paused = true;
      if (location.backend !== 'sqlite' || attempt >= 20 || writable(location.path)) return;
      proc.kill('SIGCONT');
      this.paused = false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const res = await fetch(this.url + path, {
      method,
      headers: {
        authorization: adminAuth,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async get<T = unknown>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }
}

export interface ProcessClusterOptions {
  readonly nodes?: number;
  /** Store URL; default a SQLite file in the data folder. */
  readonly store?: string;
  /** A store URL for one node (e.g. through a fault proxy); others use `store`. */
  readonly storeFor?: (uid: number) => string | undefined;
  readonly leaseTtlMs?: number;
  readonly handoverTimeoutMs?: number;
  /** Extra environment for every node process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Another build's `bin/bosun.js` to run the nodes from (benchmarks against a baseline). */
  readonly bin?: string;
  /** The nodes' `--fast-failover` mode. (Default: the node's own default, on) */
  readonly fastFailover?: 'on' | 'port' | 'off';
  /** More `bosun node` options for every node (such as the listener timeouts). */
  readonly nodeArgs?: readonly string[];
  /** Where the nodes' ports come from. (Default: freePort) */
  readonly ports?: () => Promise<number>;
}

/** How many times a cluster's start gives a node that could not listen new ports. */
const START_ATTEMPTS = 3;

export type NodesStatus = Record<
  string,
  { role: 'master' | 'slave'; node_status: string; master_status?: 'handing_over' | 'fenced' }
>;

export class ProcessCluster {
  readonly nodes: ClusterNode[] = [];

  private constructor(
    readonly dataDir: string,
    readonly store: string,
    readonly leaseTtlMs: number,
    readonly handoverTimeoutMs: number,
    private readonly storeOverride: ((uid: number) => string | undefined) | undefined,
    readonly fastFailover: 'on' | 'port' | 'off' | undefined,
    readonly nodeArgs: readonly string[] = [],
    readonly env: Record<string, string> = {},
    readonly bin: string = defaultBin,
  ) {}

  storeFor(uid: number): string {
    return this.storeOverride?.(uid) ?? this.store;
  }

  static async start(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const dataDir = await mkdtemp(join(tmpdir(), 'bosun-cluster-'));
    const cluster = new ProcessCluster(
      dataDir,
      options.store ?? `sqlite:${join(dataDir, 'bosun.db')}`,
      options.leaseTtlMs ?? 1500,
      options.handoverTimeoutMs ?? 5000,
      options.storeFor,
      options.fastFailover,
      options.nodeArgs,
      options.env,
      options.bin,
    );
    const port = options.ports ?? freePort;
    for (let uid = 1; uid <= (options.nodes ?? 3); uid++) {
      cluster.nodes.push(new ClusterNode(uid, await port(), await port(), cluster));
    }
    // freePort's port is free when it answers, not when the node listens: another process (a test
    // running beside this one) may take it in between. The node then exits before it registers, and
    // the waits below, which ask running nodes only, would pass without it while its URL reaches
    // the other process. So a node gone by the end of the waits gets new ports and starts again.
    for (let attempt = 1; ; attempt++) {
      for (const n of cluster.nodes) if (!n.running) n.start();
      await cluster.waitForAgreedMaster();
      await cluster.waitForMembership();
      const gone = cluster.nodes.filter((n) => !n.running);
      if (gone.length === 0) return cluster;
      if (attempt === START_ATTEMPTS) {
        throw new Error(
          `node(s) ${gone.map((n) => n.uid).join(', ')} exited while the cluster started (logs in ${dataDir}/logs)`,
        );
      }
      for (const n of gone) {
        n.httpPort = await port();
        n.httpsPort = await port();
      }
    }
  }

  node(uid: number): ClusterNode {
    const n = this.nodes.find((x) => x.uid === uid);
    if (!n) throw new Error(`no node ${uid}`);
    return n;
  }

  running(): ClusterNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /** Running and not paused: the nodes that can answer. */
  responsive(): ClusterNode[] {
    return this.nodes.filter((n) => n.running && !n.paused);
  }

  /** The master every running node reports, once they all agree (and every node in `mustSee` answers). */
  async waitForAgreedMaster(options: { not?: number; timeoutMs?: number } = {}): Promise<number> {
    return eventually(
      async () => {
        const seen = new Set<number>();
        for (const n of this.responsive()) {
          const res = await n.get<NodesStatus>('/v1/nodes/status');
          if (res.status !== 200) return undefined;
          const masters = Object.entries(res.body).filter(([, s]) => s.role === 'master');
          if (masters.length !== 1) return undefined;
          seen.add(Number(masters[0]![0]));
        }
        if (seen.size !== 1) return undefined;
        const master = [...seen][0]!;
        if (master === options.not || !this.responsive().includes(this.node(master))) return undefined;
        return master;
      },
      options.timeoutMs ?? 20_000,
      'every running node to agree on one master',
    );
  }

  /**
   * Every responsive node lists every responsive node as active. A node answers its API before it has
   * registered (it listens first, so its liveness record can name its ports), so agreement on a master
   * alone does not mean the others know every node yet: a test that names a node right after start
   * would race its registration.
   */
  async waitForMembership(timeoutMs = 20_000): Promise<void> {
    await eventually(
      async () => {
        const uids = this.responsive().map((n) => String(n.uid));
        for (const n of this.responsive()) {
          const res = await n.get<NodesStatus>('/v1/nodes/status');
          if (res.status !== 200) return undefined;
          if (!uids.every((uid) => res.body[uid]?.node_status === 'active')) return undefined;
        }
        return true;
      },
      timeoutMs,
      'every running node to list every running node as active',
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.running().map((n) => n.signal('SIGCONT').then(() => n.signal('SIGKILL'))));
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (process.env.BOSUN_KEEP_TEST_DATA) return;
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

export interface HealthcheckBody {
  readonly status: 'active' | 'inactive';
  readonly node_uid: number;
  readonly master_uid?: number;
  readonly is_master: boolean;
  readonly master_status: 'master' | 'handing_over' | 'fenced' | 'none';
  readonly store_reachable: boolean;
}

/**
 * Samples every responsive node's own belief ("am I master?") in a loop, to check that two nodes
 * never act as master at once. Each sample asks all nodes at the same moment.
 */
export class MasterSampler {
  maxConcurrentMasters = 0;
  samples = 0;
  readonly violations: string[] = [];
  #running = true;
  readonly #done: Promise<void>;

  constructor(private readonly cluster: ProcessCluster) {
    this.#done = this.#loop();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const answers = await Promise.all(
        this.cluster.responsive().map(async (n) => {
          try {
            const res = await fetch(`${n.url}/v1/local/node/master_healthcheck`, {
              headers: { authorization: adminAuth },
              signal: AbortSignal.timeout(2000),
            });
            return res.status === 200 ? ((await res.json()) as HealthcheckBody) : undefined;
          } catch {
            return undefined;
          }
        }),
      );
      const masters = answers.filter((a) => a?.is_master).map((a) => a!.node_uid);
      this.samples++;
      this.maxConcurrentMasters = Math.max(this.maxConcurrentMasters, masters.length);
      if (masters.length > 1) this.violations.push(`nodes ${masters.join(' and ')} both acted as master`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

const terminalStatuses = new Set(['completed', 'failed', 'cancelled']);

/**
 * A `/v1/actions` task entry read back as a run: RE sends `progress` and `creation_time` there as
 * strings, and a `task_id` (docs/decisions.md, "Three forms of an action").
 */
export function taskToRun(task: Record<string, unknown>): ActionRun {
  const { task_id: _taskId, ...rest } = task;
  return { ...rest, progress: Number(task.progress), creation_time: Number(task.creation_time) } as ActionRun;
}

/** Polls a run on `node` until it reaches a terminal status. */
export async function waitForRun(node: ClusterNode, uid: string, timeoutMs = 30_000): Promise<ActionRun> {
  return eventually(
    async () => {
      const res = await node.get<Record<string, unknown>>(`/v1/actions/${uid}`);
      return res.status === 200 && terminalStatuses.has(res.body.status as string)
        ? taskToRun(res.body)
        : undefined;
    },
    timeoutMs,
    `run ${uid} to finish`,
  );
}
