/**
 * Searching the run history (`GET /v1/actions?name=&status=&since=&until=&limit=&cursor=&order=`).
 * A request with none of these parameters is not a query: it gets today's whole list, unchanged
 * (what Redis Enterprise clients expect). With any of them, the runs are filtered and paged.
 *
 * Paging is by keyset, after AIP-158: the cursor names the last run returned by its position in
 * creation order (the store revision that created it), never an offset. Runs added or pruned
 * between pages therefore cause no duplicate and no gap among the runs that stay. A cursor is bound
 * to its filters and order; reused with others it is a 400 `invalid_cursor`. `limit` may change
 * between pages (AIP-158 allows it).
 */
import { createHash } from 'node:crypto';

import { BosunError } from '../errors/catalogue.js';
import type { KeyValue } from '../store/types.js';
import type { ActionRun } from './run.js';
import { allStatuses, type ActionStatus } from './status.js';

export const HISTORY_PARAMS = ['name', 'status', 'since', 'until', 'limit', 'cursor', 'order'] as const;
export const MAX_LIMIT = 1000;
const MAX_CURSOR_LENGTH = 512;

export interface HistoryQuery {
  readonly name: string | undefined;
  readonly statuses: ReadonlySet<ActionStatus> | undefined;
  /** Unix seconds, inclusive. */
  readonly since: number | undefined;
  /** Unix seconds, exclusive. */
  readonly until: number | undefined;
  /** Undefined: every matching run. */
  readonly limit: number | undefined;
  readonly order: 'asc' | 'desc';
  readonly after: Position | undefined;
}

/** Where a run stands in creation order. */
interface Position {
  readonly rev: number;
  readonly key: string;
}

export interface HistoryPage {
  readonly runs: readonly KeyValue[];
  readonly nextCursor: string | undefined;
}

const invalid = (description: string): BosunError => new BosunError('invalid_schema', description);

function one(raw: Record<string, unknown>, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Give the query parameter "${name}" once.`);
  return value;
}

/** Unix seconds or an ISO 8601 date or date-time; returned as unix seconds. */
export function parseTime(name: string, value: string): number {
  if (/^[0-9]{1,15}$/.test(value)) return Number(value);
  const ms = /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(value)
    ? Date.parse(value)
    : NaN;
  if (!Number.isFinite(ms)) {
    throw invalid(
      `"${name}" must be unix seconds or an ISO 8601 time such as 2026-11-30T12:00:00Z, got ${JSON.stringify(value.slice(0, 40))}.`,
    );
  }
  return Math.floor(ms / 1000);
}

function parseStatuses(value: string): Set<ActionStatus> {
  const out = new Set<ActionStatus>();
  for (const s of value.split(',')) {
    if (!(allStatuses as readonly string[]).includes(s)) {
      throw invalid(
        `Unknown status ${JSON.stringify(s.slice(0, 40))}; one or more of ${allStatuses.join(', ')}, comma-separated.`,
      );
    }
    out.add(s as ActionStatus);
  }
  return out;
}

function parseLimit(value: string): number {
  const n = /^[0-9]{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT))
    throw invalid(
      `"limit" must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(value.slice(0, 40))}.`,
    );
  return n;
}

/** The query, or undefined when the request has none of the history parameters (today's answer). */
export function parseHistoryQuery(raw: Record<string, unknown>): HistoryQuery | undefined {
  if (!HISTORY_PARAMS.some((p) => raw[p] !== undefined)) return undefined;
  const name = one(raw, 'name');
  if (name !== undefined && !/^[a-z0-9_]{1,128}$/.test(name))
    throw invalid('"name" must be an action name such as change_master.');
  const order = one(raw, 'order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc')
    throw invalid(`"order" must be asc or desc, got ${JSON.stringify(order.slice(0, 40))}.`);
  const statusText = one(raw, 'status');
  const sinceText = one(raw, 'since');
  const untilText = one(raw, 'until');
  const limitText = one(raw, 'limit');
  const since = sinceText === undefined ? undefined : parseTime('since', sinceText);
  const until = untilText === undefined ? undefined : parseTime('until', untilText);
  if (since !== undefined && until !== undefined && since > until)
    throw invalid('"since" is later than "until".');
  const base: Omit<HistoryQuery, 'after'> = {
    name,
    statuses: statusText === undefined ? undefined : parseStatuses(statusText),
    since,
    until,
    limit: limitText === undefined ? undefined : parseLimit(limitText),
    order,
  };
  const cursor = one(raw, 'cursor');
  return { ...base, after: cursor === undefined ? undefined : decodeCursor(cursor, filterId(base)) };
}

/** Binds a cursor to the filters and order it was issued for. */
function filterId(q: Pick<HistoryQuery, 'name' | 'statuses' | 'since' | 'until' | 'order'>): string {
  const statuses = q.statuses ? [...q.statuses].sort().join(',') : '';
  const text = [q.name ?? '', statuses, q.since ?? '', q.until ?? '', q.order].join('\n');
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

function encodeCursor(position: Position, filter: string): string {
  return Buffer.from(JSON.stringify({ v: 1, r: position.rev, k: position.key, f: filter })).toString(
    'base64url',
  );
}

function decodeCursor(text: string, filter: string): Position {
  const bad = (why: string) =>
    new BosunError('invalid_cursor', `The cursor ${why}; start again without one.`);
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text))
    throw bad('is not one this server issued');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('is not one this server issued');
  }
  const c = parsed as { v?: unknown; r?: unknown; k?: unknown; f?: unknown };
  if (c?.v !== 1 || !Number.isSafeInteger(c.r) || typeof c.k !== 'string' || typeof c.f !== 'string')
    throw bad('is not one this server issued');
  if (c.f !== filter) throw bad('was issued for other filters or another order');
  return { rev: c.r as number, key: c.k };
}

function compare(kv: KeyValue, p: Position): number {
  return kv.createRevision - p.rev || (kv.key < p.key ? -1 : kv.key > p.key ? 1 : 0);
}

/** The first index in `ordered` strictly after `p`, by binary search. */
function indexAfter(ordered: readonly KeyValue[], p: Position): number {
  let lo = 0;
  let hi = ordered.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(ordered[mid]!, p) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function matches(run: ActionRun, q: HistoryQuery): boolean {
  return (
    (q.name === undefined || run.name === q.name) &&
    (q.statuses === undefined || q.statuses.has(run.status)) &&
    (q.since === undefined || run.creation_time >= q.since) &&
    (q.until === undefined || run.creation_time < q.until)
  );
}

/**
 * What a time window needs to find its runs by binary search: over the runs in creation order, the
 * latest creation_time up to each index and the earliest from each index on. Both never decrease,
 * whatever the order of the times themselves: runs stamped by nodes whose clocks disagree, or written
 * in one transaction, are still all found, and the window only widens by the disorder.
 */
export interface TimeBounds {
  readonly latestUpTo: readonly number[];
  readonly earliestFrom: readonly number[];
}

export function timeBounds(creationTimes: readonly number[]): TimeBounds {
  const n = creationTimes.length;
  const latestUpTo = new Array<number>(n);
  const earliestFrom = new Array<number>(n);
  for (let i = 0, max = -Infinity; i < n; i++) latestUpTo[i] = max = Math.max(max, creationTimes[i]!);
  for (let i = n - 1, min = Infinity; i >= 0; i--) earliestFrom[i] = min = Math.min(min, creationTimes[i]!);
  return { latestUpTo, earliestFrom };
}

/** The first index whose value is at least `t`, by binary search over non-decreasing `values`. */
function firstAtOrAfter(values: readonly number[], t: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The index range of the runs that `since` and `until` may allow: before `lo` every run is older than
 * `since`, and from `hi` on every run is at least `until`. Without bounds, every run.
 */
function timeWindow(
  length: number,
  q: HistoryQuery,
  bounds: TimeBounds | undefined,
): { lo: number; hi: number } {
  if (bounds === undefined) return { lo: 0, hi: length };
  return {
    lo: q.since === undefined ? 0 : firstAtOrAfter(bounds.latestUpTo, q.since),
    hi: q.until === undefined ? length : firstAtOrAfter(bounds.earliestFrom, q.until),
  };
}

/**
 * One page of `ordered` (every run, in creation order) under `q`. `bounds`, when given, are
 * `timeBounds` of the runs' creation times in the same order, and spare a time window the scan of
 * the runs outside it.
 */
export function queryHistory(
  ordered: readonly KeyValue[],
  q: HistoryQuery,
  runOf: (kv: KeyValue) => ActionRun,
  bounds?: TimeBounds,
): HistoryPage {
  const out: KeyValue[] = [];
  const want = q.limit ?? Infinity;
  const step = q.order === 'asc' ? 1 : -1;
  const { lo, hi } = timeWindow(ordered.length, q, bounds);
  let i: number;
  if (q.order === 'asc') i = Math.max(lo, q.after ? indexAfter(ordered, q.after) : 0);
  else {
    i = q.after ? indexAfter(ordered, q.after) - 1 : ordered.length - 1;
    // Strictly before the cursor's run, when it is still there.
    if (q.after && i >= 0 && compare(ordered[i]!, q.after) === 0) i--;
    i = Math.min(i, hi - 1);
  }
  let more = false;
  for (; i >= lo && i < hi; i += step) {
    const kv = ordered[i]!;
    if (!matches(runOf(kv), q)) continue;
    if (out.length === want) {
      more = true;
      break;
    }
    out.push(kv);
  }
  const last = out[out.length - 1];
  const nextCursor =
    more && last ? encodeCursor({ rev: last.createRevision, key: last.key }, filterId(q)) : undefined;
  return { runs: out, nextCursor };
}
