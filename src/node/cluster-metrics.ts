/**
 * Turns what this node's view sees into cluster metrics (metrics.ts), counting each fact on exactly one
 * node so that sums across nodes are cluster totals:
 * - a run that reaches a final status is counted by the node the view names master at that revision
 *   (the master wrote it, or saw a DELETE of a queued run land); a change_master run adds its measured
 *   hand-over and no-master window;
 * - a master change is counted by the new master, once per epoch, with its cause.
 * Runs already final when the view first syncs are not counted: they ended before this node looked.
 */
import { actionRunRecord, runsFolder, type ActionRun } from '../actions/run.js';
import { isTerminal } from '../actions/status.js';
import type { ClusterKeys, MasterRecord } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import type { BosunMetrics, MasterChangeCause } from '../metrics/metrics.js';
import type { WatchEvent } from '../store/types.js';
import { ViewFollower } from './view-follower.js';

export function masterChangeCause(record: MasterRecord): MasterChangeCause {
  if (record.via_action !== undefined) return 'requested';
  if (record.forced) return 'fast_path';
  if (record.previous?.node_uid === undefined && record.epoch <= 1) return 'initial';
  return 'failover';
}

export class ClusterMetrics extends ViewFollower {
  /** Runs known to have ended (counted or pre-existing), so a re-put of a final run is not recounted. */
  readonly #ended = new Set<string>();
  #countedEpoch = 0;

  constructor(
    view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly selfUid: number,
    private readonly metrics: BosunMetrics,
    /** Called with every revision the view applies (the instrumented store's watch lag). */
    private readonly applied?: (revision: number) => void,
  ) {
    super(view);
  }

  protected override resync(): void {
    for (const run of this.view.readAll(runsFolder(this.keys)))
      if (isTerminal(run.status)) this.#ended.add(run.action_uid);
    this.#masterGauges();
  }

  protected override applyChange(events: readonly WatchEvent[], revision: number): void {
    this.applied?.(revision);
    for (const { type, kv } of events) {
      if (kv.key === this.keys.master.key) {
        this.#masterChanged();
      } else if (kv.key.startsWith(this.keys.actions)) {
        const uid = kv.key.slice(this.keys.actions.length);
        if (type === 'delete') this.#ended.delete(uid);
        else this.#runChanged(uid, this.view.recordOf(kv, actionRunRecord));
      }
    }
  }

  #masterChanged(): void {
    const record = this.#masterGauges();
    if (!record || record.node_uid !== this.selfUid || record.epoch <= this.#countedEpoch) return;
    this.#countedEpoch = record.epoch;
    this.metrics.masterChanges.inc({ cause: masterChangeCause(record) });
  }

  #masterGauges(): MasterRecord | undefined {
    const record = this.view.read(this.keys.master);
    this.metrics.isMaster.set(record?.node_uid === this.selfUid ? 1 : 0);
    this.metrics.masterEpoch.set(record?.epoch ?? 0);
    return record;
  }

  #runChanged(uid: string, run: ActionRun): void {
    if (!isTerminal(run.status) || this.#ended.has(uid)) return;
    this.#ended.add(uid);
    if (this.view.read(this.keys.master)?.node_uid !== this.selfUid) return;
    const labels = { action: run.name, status: run.status };
    this.metrics.runsFinished.inc(labels);
    // start_time has milliseconds; creation_time only seconds (and a queued run cancelled never started).
    const started = run.start_time ? Date.parse(run.start_time) : Number(run.creation_time) * 1000;
    const ended = run.end_time ? Date.parse(run.end_time) : Date.now();
    if (Number.isFinite(ended) && Number.isFinite(started))
      this.metrics.runDuration.observe(labels, Math.max(0, ended - started) / 1000);
    const outcome = run.outcome;
    if (run.name === 'change_master' && run.status === 'completed' && outcome && !outcome.noop) {
      if (typeof outcome.handover_ms === 'number')
        this.metrics.handoverDuration.observe(outcome.handover_ms / 1000);
      if (typeof outcome.no_master_window_ms === 'number')
        this.metrics.noMasterWindow.observe(outcome.no_master_window_ms / 1000);
    }
  }
}
