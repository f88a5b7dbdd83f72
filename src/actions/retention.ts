/**
 * How long run history lasts: the master deletes finished runs beyond a count and beyond an age,
 * and Idempotency-Key records past their expiry, so the store does not grow without bound. The
 * same deletes on either store, in fenced transactions of at most PRUNE_BATCH keys (etcd refuses a
 * transaction of more than 128 operations).
 *
 * Never pruned: a queued or in-flight run, and the run each `cluster-actions/<name>` pointer names
 * (what `GET /v1/cluster/actions/<name>` shows). docs/decisions.md, "Run history", has the defaults.
 */
import type { Logger } from 'pino';

import type { ClusterKeys } from '../cluster/keys.js';
import { NotMasterError } from '../errors/domain.js';
import type { ClusterView } from '../cluster/view.js';
import { CoalescingTask } from '../lib/coalescing-task.js';
import type { TxnRequest, TxnResult } from '../store/types.js';
import { idempotencyRecord } from './idempotency.js';
import { actionRunRecord, type ActionRun } from './run.js';
import { isTerminal } from './status.js';

export interface RetentionSettings {
  /** At most this many runs are kept; the oldest finished ones go first. (Default: 10000) */
  readonly maxRuns: number;
  /** Finished runs that ended longer ago than this are pruned, in ms; 0 keeps them. (Default: 30 days) */
  readonly maxAgeMs: number;
  /** How often the master sweeps for age and expired keys, in ms. (Default: 60000) */
  readonly sweepEveryMs: number;
}

export const defaultRetention: RetentionSettings = {
  maxRuns: 10_000,
  maxAgeMs: 30 * 24 * 60 * 60 * 1000,
  sweepEveryMs: 60_000,
};

export const PRUNE_BATCH = 100;

/** When a finished run ended (unix ms): its end time, else its creation. */
function endedAt(run: ActionRun): number {
  const end = run.end_time !== undefined ? Date.parse(run.end_time) : NaN;
  return Number.isFinite(end) ? end : run.creation_time * 1000;
}

/**
 * The uids of the runs to delete: every finished, unpinned run older than `maxAgeMs`, then the
 * oldest finished, unpinned runs while more than `maxRuns` remain. `runs` is in creation order.
 */
export function runsToPrune(
  runs: readonly ActionRun[],
  pinned: ReadonlySet<string>,
  settings: Pick<RetentionSettings, 'maxRuns' | 'maxAgeMs'>,
  now: number,
): string[] {
  const prunable = runs.filter((r) => isTerminal(r.status) && !pinned.has(r.action_uid));
  const out = new Set<string>();
  if (settings.maxAgeMs > 0) {
    for (const r of prunable) if (now - endedAt(r) > settings.maxAgeMs) out.add(r.action_uid);
  }
  let excess = runs.length - out.size - settings.maxRuns;
  for (const r of prunable) {
    if (excess <= 0) break;
    if (out.has(r.action_uid)) continue;
    out.add(r.action_uid);
    excess--;
  }
  return [...out];
}

/** What retention needs of the master role: fenced writes (master.ts, `fencedTxn`). */
export interface FencedWriter {
  fencedTxn(request: TxnRequest): Promise<TxnResult>;
}

export class Retention {
  #timer: NodeJS.Timeout | undefined;
  readonly #task: CoalescingTask;

  constructor(
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly master: FencedWriter,
    private readonly isMaster: () => boolean,
    private readonly settings: RetentionSettings,
    private readonly log: Logger,
  ) {
    // A pass that throws (a malformed record, say) is logged; the next request runs a fresh pass.
    this.#task = new CoalescingTask(() => this.#prune(), {
      onError: (err) => this.log.warn({ err }, 'could not prune old runs'),
    });
  }

  start(): void {
    this.#timer = setInterval(() => this.prune(), this.settings.sweepEveryMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#task.stop();
  }

  /** Asks for a prune (done on the master only); one asked for while a prune runs follows it. */
  prune(): void {
    this.#task.request();
  }

  async #prune(): Promise<void> {
    if (!this.isMaster()) return;
    const now = Date.now();
    const runs = [...this.view.list(this.keys.actions)]
      .sort((a, b) => a.createRevision - b.createRevision)
      .map((kv) => this.view.recordOf(kv, actionRunRecord));
    const pinned = new Set(this.view.list(this.keys.clusterActions).map((kv) => kv.value));
    const keys = runsToPrune(runs, pinned, this.settings, now).map((uid) => this.keys.action(uid));
    for (const kv of this.view.list(this.keys.idempotencyKeys)) {
      if (this.view.recordOf(kv, idempotencyRecord).expires_at <= now) keys.push(kv.key);
    }
    try {
      for (let i = 0; i < keys.length; i += PRUNE_BATCH) {
        await this.master.fencedTxn({
          compare: [],
          success: keys.slice(i, i + PRUNE_BATCH).map((key) => ({ type: 'delete', key })),
        });
      }
    } catch (err) {
      if (!(err instanceof NotMasterError)) this.log.warn({ err }, 'could not prune old runs');
    }
  }
}
