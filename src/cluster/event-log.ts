/**
 * The cluster event log (Redis Enterprise's `GET /v1/logs`): who did what, and when. Entries live in the
 * store under `<prefix>events/`, so every node's view holds them and any node can answer; the log is
 * bounded by a retention count, enforced by the master.
 *
 * An entry is RE's event object: `time` (ISO 8601), `type`, `severity`, then fields by type (node_uid,
 * action, action_uid, user, epoch, cause, request_id...). Secrets never enter it: user events name the
 * fields that changed, never their values.
 *
 * Each fact is written by exactly one node (see node/event-recorder.ts and api/audit.ts), so three nodes
 * never log it three times. Writes are plain puts under unique keys: an event needs no fence, and a
 * lost write loses one entry, never the cluster's consistency.
 */
import { Type } from '@sinclair/typebox';

import { recordType } from '../store/typed-key.js';
import type { Store } from '../store/types.js';
import type { ClusterKeys } from './keys.js';
import type { ClusterView } from './view.js';

export type Severity = 'INFO' | 'WARNING' | 'ERROR';

export interface EventEntry {
  /** ISO 8601, UTC, with milliseconds. */
  readonly time: string;
  readonly type: string;
  readonly severity: Severity;
  /** Additive: the entry's key in the log, unique and increasing with time; `bosun logs --follow` uses it. */
  readonly id?: string;
  readonly [field: string]: unknown;
}

/** What is checked when a stored entry enters (store/typed-key.ts); fields by type are free. */
export const eventEntryRecord = recordType<EventEntry>(
  'event',
  Type.Object({
    time: Type.String(),
    type: Type.String(),
    severity: Type.Union([Type.Literal('INFO'), Type.Literal('WARNING'), Type.Literal('ERROR')]),
    id: Type.Optional(Type.String()),
  }),
);

export interface EventQuery {
  /** Unix ms: no entries before. */
  readonly stime?: number | undefined;
  /** Unix ms: no entries after. */
  readonly etime?: number | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
}

/**
 * How long an entry waits to be written with the ones that follow it, in ms. A hand-over produces four
 * entries on two nodes within milliseconds; batching them keeps the log's writes off the hand-over's
 * critical path and makes them one transaction per node.
 */
export const eventFlushDelayMs = 50;
/**
 * The most entries a node holds unwritten. A store that cannot keep up (or is away) must not make a
 * node's memory grow without bound: beyond this, new entries are dropped and counted as failed writes.
 */
const QUEUE_LIMIT = 5000;
/** How many entries the log keeps by default. */
export const defaultEventRetention = 10_000;
/** The most keys one pruning transaction deletes (etcd allows 128 operations per transaction). */
const PRUNE_BATCH = 100;

export function eventsPrefix(keys: ClusterKeys): string {
  return `${keys.prefix}events/`;
}

export class EventLog {
  #seq = 0;
  #pruning = false;
  #queue: { key: string; value: string }[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #waiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    /** This node's uid: part of every key it writes, so keys from different nodes never collide. */
    private readonly selfUid: number,
    readonly retention: number = defaultEventRetention,
    private readonly onWrite?: (ok: boolean, err?: unknown) => void,
  ) {}

  get prefix(): string {
    return eventsPrefix(this.keys);
  }

  /**
   * Appends an entry, written with the others queued within `eventFlushDelayMs`. Resolves once written
   * (or failed). Never rejects: a failed write is reported to `onWrite` and dropped.
   */
  record(type: string, severity: Severity, fields: Record<string, unknown> = {}): Promise<void> {
    const now = Date.now();
    // Time first (fixed width), so the keys sort in time order; then the writer and its own sequence.
    const id = `${String(now).padStart(13, '0')}-${this.selfUid}-${String(++this.#seq).padStart(8, '0')}`;
    const entry: EventEntry = { time: new Date(now).toISOString(), type, severity, ...clean(fields), id };
    if (this.#queue.length >= QUEUE_LIMIT) {
      this.onWrite?.(
        false,
        new Error(`the event log queue is full (${QUEUE_LIMIT}); dropped a ${type} entry`),
      );
      return Promise.resolve();
    }
    this.#queue.push({ key: this.prefix + id, value: JSON.stringify(entry) });
    const written = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#flushTimer ??= setTimeout(() => void this.flush(), eventFlushDelayMs);
    return written;
  }

  /** Writes what is queued now (at shutdown, or when a caller must see its entry written). */
  async flush(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.#flushing;
    const batch = this.#queue.splice(0, PRUNE_BATCH);
    const waiters = this.#waiters.splice(0, batch.length);
    if (batch.length === 0) return;
    this.#flushing = (async () => {
      try {
        await this.store.txn({
          compare: [],
          success: batch.map(({ key, value }) => ({ type: 'put' as const, key, value })),
        });
        for (let i = 0; i < batch.length; i++) this.onWrite?.(true);
      } catch (err) {
        this.onWrite?.(false, err);
      } finally {
        for (const resolve of waiters) resolve();
      }
    })();
    await this.#flushing;
    this.#flushing = undefined;
    if (this.#queue.length > 0) await this.flush();
  }

  /** Entries as `GET /v1/logs` returns them, from this node's view. */
  list(query: EventQuery = {}): EventEntry[] {
    const all = this.view.list(this.prefix);
    const out: EventEntry[] = [];
    for (const kv of all) {
      const entry = this.view.recordOf(kv, eventEntryRecord);
      const t = Date.parse(entry.time);
      if (query.stime !== undefined && t < query.stime) continue;
      if (query.etime !== undefined && t > query.etime) continue;
      out.push(entry);
    }
    if (query.order === 'desc') out.reverse();
    const from = query.offset ?? 0;
    return out.slice(from, query.limit !== undefined ? from + query.limit : undefined);
  }

  /**
   * Deletes the oldest entries beyond the retention (the master calls this). Waits until the log is
   * a tenth over, so pruning costs one transaction per many entries, not one per entry.
   */
  async prune(): Promise<void> {
    if (this.#pruning) return;
    const all = this.view.list(this.prefix);
    const excess = all.length - this.retention;
    if (excess <= 0 || excess < Math.max(1, Math.floor(this.retention / 10))) return;
    this.#pruning = true;
    try {
      const victims = all.slice(0, excess).map((kv) => kv.key);
      for (let i = 0; i < victims.length; i += PRUNE_BATCH) {
        await this.store.txn({
          compare: [],
          success: victims.slice(i, i + PRUNE_BATCH).map((key) => ({ type: 'delete' as const, key })),
        });
      }
    } catch (err) {
      this.onWrite?.(false, err);
    } finally {
      this.#pruning = false;
    }
  }
}

/** Drops undefined fields, so entries carry only what is known. */
function clean(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
