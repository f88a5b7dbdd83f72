/** REST answers into the model: `/v1/cluster`, `/v1/nodes`, `/v1/nodes/status`, `/v1/nodes/stats`. */
import type { Model, NodeRow } from './model.js';

const num = (v: unknown, fallback = 0): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

export function applyCluster(m: Model, c: Record<string, unknown>): void {
  m.clusterName = str(c.name, 'bosun');
  if (typeof c.node_uid === 'number') m.connectedUid = c.node_uid;
  // The holder's term; who holds it and whether it acts as master come from /v1/nodes/status.
  m.master = {
    ...m.master,
    epoch: typeof c.master_epoch === 'number' ? c.master_epoch : undefined,
    since: typeof c.master_since === 'string' ? c.master_since : undefined,
  };
}

export function applyNodes(m: Model, nodes: Record<string, unknown>[]): void {
  const now = Date.now();
  const seen = new Set<number>();
  for (const n of nodes) {
    const uid = num(n.uid);
    seen.add(uid);
    const old = m.nodes.get(uid);
    const row: NodeRow = {
      uid,
      addr: str(n.addr),
      hostname: str(n.hostname),
      status: str(n.status, 'down'),
      role: old?.role ?? 'slave',
      masterStatus: old?.masterStatus,
      version: str(n.software_version),
      uptime: num(n.uptime),
      uptimeAt: now,
      cores: num(n.cores),
      totalMemory: num(n.total_memory),
      httpPort: num(n.cnm_http_port),
      httpsPort: num(n.cnm_https_port),
      cpu: old?.cpu,
      freeMemory: old?.freeMemory,
    };
    m.nodes.set(uid, row);
  }
  for (const uid of [...m.nodes.keys()]) if (!seen.has(uid)) m.nodes.delete(uid);
}

/** `/v1/nodes/status`: who acts as master, and a holder that is handing over or fenced. */
export function applyStatus(m: Model, status: Record<string, Record<string, unknown>>): void {
  let next = { uid: null as number | null, status: 'none' };
  for (const [uid, s] of Object.entries(status)) {
    if (s.role === 'master') next = { uid: Number(uid), status: 'master' };
    else if (typeof s.master_status === 'string' && next.status !== 'master') {
      next = { uid: Number(uid), status: s.master_status };
    }
  }
  // Through setMaster, so a change seen over REST moves the badge and is told like a streamed one.
  m.setMaster({ ...m.master, ...next });
}

export interface StatsEntry {
  readonly uid: number;
  readonly intervals: readonly Record<string, unknown>[];
}

export function applyStats(m: Model, stats: StatsEntry[]): void {
  for (const s of stats) {
    const row = m.nodes.get(s.uid);
    const last = s.intervals.at(-1);
    if (!row || !last) continue;
    row.cpu = typeof last.cpu_idle === 'number' ? Math.min(1, Math.max(0, 1 - last.cpu_idle)) : undefined;
    row.freeMemory = typeof last.free_memory === 'number' ? last.free_memory : undefined;
  }
}
