/**
 * Node samples to Redis Enterprise stats objects: `{"uid", "intervals": [...]}` per node, and the cluster's
 * `{"intervals": [...]}` (docs/re-contract.md, "Stats"; the shapes of the real captures the Rust client ships
 * as fixtures). An interval holds only the figures a node measured.
 */
import type { NodeStatsRecord } from '../cluster/keys.js';
import { BosunError } from '../errors/catalogue.js';

export const statsIntervals = ['1sec', '10sec', '5min', '15min', '1hour', '12hour', '1week'] as const;

export interface StatsQuery {
  readonly interval?: string | undefined;
  readonly stime?: string | undefined;
  readonly etime?: string | undefined;
}

/** The window a query asks for; a malformed one is a 400 naming the bad parameter. */
export function parseStatsQuery(query: StatsQuery): { from: number; to: number } {
  if (query.interval !== undefined && !(statsIntervals as readonly string[]).includes(query.interval)) {
    throw new BosunError(
      'invalid_schema',
      `Query parameter "interval" must be one of ${statsIntervals.join(', ')}.`,
    );
  }
  const time = (name: 'stime' | 'etime', fallback: number): number => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    const ms = Date.parse(raw);
    if (!Number.isFinite(ms)) {
      throw new BosunError('invalid_schema', `Query parameter "${name}" must be an ISO 8601 time.`);
    }
    return ms;
  };
  const from = time('stime', -Infinity);
  const to = time('etime', Infinity);
  if (from > to) throw new BosunError('invalid_schema', 'Query parameter "stime" is after "etime".');
  return { from, to };
}

export function toStatsInterval(s: NodeStatsRecord): Record<string, unknown> {
  return {
    interval: s.interval,
    stime: s.stime,
    etime: s.etime,
    cpu_user: s.cpu_user,
    cpu_system: s.cpu_system,
    cpu_idle: s.cpu_idle,
    cpu_nice: s.cpu_nice,
    cpu_irqs: s.cpu_irqs,
    free_memory: s.free_memory,
    ...(s.persistent_storage_free !== undefined
      ? {
          persistent_storage_free: s.persistent_storage_free,
          persistent_storage_avail: s.persistent_storage_avail,
        }
      : {}),
    ...(s.ephemeral_storage_free !== undefined
      ? {
          ephemeral_storage_free: s.ephemeral_storage_free,
          ephemeral_storage_avail: s.ephemeral_storage_avail,
        }
      : {}),
  };
}

/** Whether a sample's window meets the asked one. */
export function inWindow(s: NodeStatsRecord, window: { from: number; to: number }): boolean {
  return Date.parse(s.etime) >= window.from && Date.parse(s.stime) <= window.to;
}

/** One node's stats object; `uptime` (seconds the node process has run) is additive. */
export function toNodeStats(
  uid: number,
  sample: NodeStatsRecord | undefined,
  window: { from: number; to: number },
): Record<string, unknown> {
  const shown = sample && inWindow(sample, window) ? sample : undefined;
  return {
    uid,
    intervals: shown ? [toStatsInterval(shown)] : [],
    ...(sample ? { uptime: sample.uptime } : {}),
  };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]): number => Math.round((sum(xs) / xs.length) * 1000) / 1000;

/**
 * The cluster's interval from every live node's sample. Nodes on one host share its memory and
 * disks, so each host counts once (its latest sample); CPU fractions are the mean over hosts.
 */
export function toClusterStats(
  samples: readonly NodeStatsRecord[],
  window: { from: number; to: number },
): { intervals: Record<string, unknown>[] } {
  const byHost = new Map<string, NodeStatsRecord>();
  for (const s of samples) {
    if (!inWindow(s, window)) continue;
    const seen = byHost.get(s.hostname);
    if (!seen || Date.parse(s.etime) > Date.parse(seen.etime)) byHost.set(s.hostname, s);
  }
  const hosts = [...byHost.values()];
  if (hosts.length === 0) return { intervals: [] };
  const stime = hosts.map((h) => h.stime).sort()[0]!;
  const etime = hosts
    .map((h) => h.etime)
    .sort()
    .at(-1)!;
  const longest = hosts.reduce(
    (a, h) =>
      statsIntervals.indexOf(h.interval as never) > statsIntervals.indexOf(a as never) ? h.interval : a,
    hosts[0]!.interval,
  );
  const storage = (pick: (h: NodeStatsRecord) => number | undefined): number | undefined => {
    const values = hosts.map(pick);
    return values.every((v) => v !== undefined) ? sum(values) : undefined;
  };
  const optional = (name: string, value: number | undefined) =>
    value === undefined ? {} : { [name]: value };
  return {
    intervals: [
      {
        interval: longest,
        stime,
        etime,
        cpu_user: mean(hosts.map((h) => h.cpu_user)),
        cpu_system: mean(hosts.map((h) => h.cpu_system)),
        cpu_idle: mean(hosts.map((h) => h.cpu_idle)),
        cpu_nice: mean(hosts.map((h) => h.cpu_nice)),
        cpu_irqs: mean(hosts.map((h) => h.cpu_irqs)),
        free_memory: sum(hosts.map((h) => h.free_memory)),
        ...optional(
          'persistent_storage_free',
          storage((h) => h.persistent_storage_free),
        ),
        ...optional(
          'persistent_storage_avail',
          storage((h) => h.persistent_storage_avail),
        ),
        ...optional(
          'ephemeral_storage_free',
          storage((h) => h.ephemeral_storage_free),
        ),
        ...optional(
          'ephemeral_storage_avail',
          storage((h) => h.ephemeral_storage_avail),
        ),
      },
    ],
  };
}
