/**
 * Writes the cluster's own events to the event log (cluster/event-log.ts) from what this node's view
 * sees. Every node sees the same revisions in the same order, so "who writes" is decided from the view
 * at the revision of the fact, and exactly one node writes each entry:
 * - a master change: the new master, once per epoch, with its cause and the previous master;
 * - a node joining: that node itself (its liveness key appears with version 1);
 * - a node leaving: that node itself, before it revokes its lease (BosunNode.stop); the master then
 *   knows the deletion that follows is not a crash;
 * - a node going down: the master at the revision its liveness key vanished; when that revision has no
 *   master (the master itself went down), the next master, when it takes office;
 * - a run starting: the master that claimed it (the run's node_uid);
 * - a run ending (completed, failed, cancelled): the master at the revision it ended.
 * Request events (actions requested or cancelled, user changes, failed logins) are written by the node
 * that answered the request (api/audit.ts).
 */
import { actionRunRecord, runsFolder, type ActionRun } from '../actions/run.js';
import { isTerminal } from '../actions/status.js';
import { eventEntryRecord, type EventLog, type Severity } from '../cluster/event-log.js';
import type { ClusterKeys, MasterRecord } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import type { WatchEvent } from '../store/types.js';
import { masterChangeCause } from './cluster-metrics.js';
import { ViewFollower } from './view-follower.js';

export class EventRecorder extends ViewFollower {
  readonly #started = new Set<string>();
  readonly #ended = new Set<string>();
  /** Nodes that announced their leaving: their liveness key's deletion is not a crash. */
  readonly #leaving = new Set<number>();
  /** Nodes that went down while there was no master: the next master records them. */
  readonly #downWithoutMaster = new Set<number>();
  #lastEpoch = 0;

  constructor(
    view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly selfUid: number,
    private readonly log: EventLog,
  ) {
    super(view);
  }

  /** Called by the node before it leaves, so the master does not report it as down. */
  async leaving(): Promise<void> {
    const written = this.log.record('cluster_node_left', 'INFO', { node_uid: this.selfUid });
    await this.log.flush();
    await written;
  }

  protected override resync(): void {
    for (const run of this.view.readAll(runsFolder(this.keys))) {
      if (isTerminal(run.status)) this.#ended.add(run.action_uid);
      else if (run.status !== 'queued') this.#started.add(run.action_uid);
    }
    const master = this.#master();
    if (master?.node_uid === this.selfUid) this.#lastEpoch = Math.max(this.#lastEpoch, master.epoch);
  }

  #master(): MasterRecord | undefined {
    return this.view.read(this.keys.master);
  }

  #write(type: string, severity: Severity, fields: Record<string, unknown>): void {
    void this.log.record(type, severity, fields);
  }

  protected override applyChange(events: readonly WatchEvent[]): void {
    const master = this.#master();
    const isMaster = master?.node_uid === this.selfUid;
    let logChanged = false;
    for (const { type, kv } of events) {
      const key = kv.key;
      if (key === this.keys.master.key) {
        if (type === 'put') this.#masterChanged();
      } else if (key.startsWith(this.keys.nodes.prefix)) {
        const uid = Number(key.slice(this.keys.nodes.prefix.length));
        if (type === 'put' && kv.version === 1 && uid === this.selfUid) {
          this.#write('cluster_node_joined', 'INFO', { node_uid: uid });
        } else if (type === 'delete') {
          if (this.#leaving.delete(uid)) continue;
          if (isMaster) this.#write('cluster_node_down', 'WARNING', { node_uid: uid });
          else if (!master) this.#downWithoutMaster.add(uid);
        } else if (type === 'put') {
          this.#leaving.delete(uid);
        }
      } else if (key.startsWith(this.keys.actions)) {
        const uid = key.slice(this.keys.actions.length);
        if (type === 'delete') {
          this.#started.delete(uid);
          this.#ended.delete(uid);
        } else {
          this.#runChanged(this.view.recordOf(kv, actionRunRecord), isMaster);
        }
      } else if (key.startsWith(this.log.prefix)) {
        logChanged = true;
        if (type === 'put') {
          const entry = this.view.recordOf(kv, eventEntryRecord);
          if (entry.type === 'cluster_node_left' && typeof entry.node_uid === 'number')
            this.#leaving.add(entry.node_uid);
        }
      }
    }
    if (logChanged && isMaster) void this.log.prune();
  }

  #masterChanged(): void {
    const record = this.#master();
    if (!record) return;
    if (record.node_uid !== this.selfUid) {
      // Another node took office: the downs it inherited are its to record.
      this.#downWithoutMaster.clear();
      return;
    }
    if (record.epoch <= this.#lastEpoch) return;
    this.#lastEpoch = record.epoch;
    this.#write('master_changed', 'INFO', {
      node_uid: this.selfUid,
      epoch: record.epoch,
      cause: masterChangeCause(record),
      previous_master: record.previous?.node_uid,
      action_uid: record.via_action,
    });
    for (const uid of this.#downWithoutMaster) this.#write('cluster_node_down', 'WARNING', { node_uid: uid });
    this.#downWithoutMaster.clear();
  }

  #runChanged(run: ActionRun, isMaster: boolean): void {
    const uid = run.action_uid;
    const fields = {
      action: run.name,
      action_uid: uid,
      node_uid: run.node_uid !== undefined ? Number(run.node_uid) : undefined,
      user: run.requester,
      request_id: run.request_id,
    };
    if (!isTerminal(run.status)) {
      if (run.status === 'queued' || this.#started.has(uid)) return;
      this.#started.add(uid);
      if (run.node_uid === String(this.selfUid)) this.#write('action_started', 'INFO', fields);
      return;
    }
    if (this.#ended.has(uid)) return;
    this.#ended.add(uid);
    this.#started.delete(uid);
    if (!isMaster) return;
    if (run.status === 'completed') this.#write('action_completed', 'INFO', fields);
    else if (run.status === 'cancelled') this.#write('action_cancelled', 'INFO', fields);
    else
      this.#write('action_failed', 'WARNING', {
        ...fields,
        error_code: run.error_code,
        error_message: run.error_message,
      });
  }
}
