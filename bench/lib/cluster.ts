/**
 * Bench clusters: real `bosun node` processes (test/helpers/process-cluster.ts) on the embedded SQLite
 * store or on a real 3-member etcd (test/helpers/etcd-cluster.ts), and quick probes of who is master.
 */
import { randomBytes } from 'node:crypto';

import { EtcdCluster } from '../../test/helpers/etcd-cluster.js';
import { ProcessCluster, sleep, type ClusterNode } from '../../test/helpers/process-cluster.js';
import type { HttpClient } from './http.js';

export type StoreKind = 'sqlite' | 'etcd';

export interface Healthcheck {
  readonly status: string;
  readonly node_uid: number;
  readonly master_uid?: number;
  readonly is_master: boolean;
  readonly store_reachable: boolean;
}

/**
 * The etcd every etcd leg runs on: 3 members on loopback with etcd's own defaults for what matters to
 * latency (fsync on, 100 ms heartbeat, 1 s election timeout), unless told otherwise.
 */
export async function startEtcd(options: { fsync?: boolean } = {}): Promise<EtcdCluster> {
  return EtcdCluster.start({ size: 3, fsync: options.fsync ?? true, heartbeatMs: 100, electionMs: 1000 });
}

/** A fresh store URL: a new key prefix on the shared etcd, or (undefined) a new SQLite file. */
export function storeUrl(kind: StoreKind, etcd: EtcdCluster | undefined): string | undefined {
  if (kind === 'sqlite') return undefined;
  if (!etcd) throw new Error('the etcd leg needs an etcd cluster');
  return etcd.url(`/bench-${randomBytes(4).toString('hex')}`);
}

export async function startCluster(
  kind: StoreKind,
  etcd: EtcdCluster | undefined,
  options: {
    leaseTtlMs?: number;
    nodes?: number;
    fastFailover?: 'on' | 'port' | 'off';
    env?: Record<string, string>;
    bin?: string;
  } = {},
): Promise<ProcessCluster> {
  return ProcessCluster.start({
    ...(options.bin ? { bin: options.bin } : {}),
    ...(options.env ? { env: options.env } : {}),
    nodes: options.nodes ?? 3,
    ...(options.fastFailover ? { fastFailover: options.fastFailover } : {}),
    store: storeUrl(kind, etcd),
    leaseTtlMs: options.leaseTtlMs ?? 3000,
    handoverTimeoutMs: 5000,
  });
}

export async function healthcheck(http: HttpClient, node: ClusterNode): Promise<Healthcheck | undefined> {
  try {
    const res = await http.get<Healthcheck>(`${node.url}/v1/local/node/master_healthcheck`, 2000);
    return res.status === 200 ? res.body : undefined;
  } catch {
    return undefined;
  }
}

/** The master every responsive node agrees on (one node says is_master, all name it), or undefined. */
export async function agreedMaster(http: HttpClient, cluster: ProcessCluster): Promise<number | undefined> {
  return (await masterSurvey(http, cluster)).agreed;
}

async function masterSurvey(
  http: HttpClient,
  cluster: ProcessCluster,
): Promise<{ agreed: number | undefined; answers: (Healthcheck | undefined)[] }> {
  const answers = await Promise.all(cluster.responsive().map((n) => healthcheck(http, n)));
  if (answers.some((a) => a === undefined || !a.store_reachable)) return { agreed: undefined, answers };
  const masters = answers.filter((a) => a!.is_master);
  if (masters.length !== 1) return { agreed: undefined, answers };
  const uid = masters[0]!.node_uid;
  return { agreed: answers.every((a) => a!.master_uid === uid) ? uid : undefined, answers };
}

export async function waitAgreedMaster(
  http: HttpClient,
  cluster: ProcessCluster,
  options: { is?: number; not?: number; timeoutMs?: number; intervalMs?: number } = {},
): Promise<number> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const { agreed: m, answers } = await masterSurvey(http, cluster);
    if (
      m !== undefined &&
      (options.is === undefined || m === options.is) &&
      (options.not === undefined || m !== options.not)
    )
      return m;
    if (Date.now() > deadline) {
      throw new Error(
        `the nodes did not agree on a master${options.is !== undefined ? ` (expected ${options.is})` : ''} ` +
          `in time; last healthchecks: ${JSON.stringify(answers)} (logs in ${cluster.dataDir}/logs)`,
      );
    }
    await sleep(options.intervalMs ?? 5);
  }
}

export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

export { sleep };
