/**
 * The chaos run's invariants, judged from two independent sources: the store's own history of the
 * cluster prefix (every revision, read by this process, not by the nodes) and the journal of what
 * clients saw. Safety findings are violations; what CPU starvation of this 2-core machine can explain
 * (a late answer, a lease lapsing with no fault) is counted apart, never called a safety violation.
 */
import { canMove, isTerminal, type ActionStatus } from '../../src/actions/status.js';
import type { KeyValue, WatchBatch } from '../../src/store/types.js';
import type { Journal } from './journal.js';

interface MasterValue {
  readonly node_uid: number;
  readonly epoch: number;
  /** Set by the fast failover's forced take-over (guarded by the dead master's token). */
  readonly forced?: { readonly signal?: string; readonly from_token?: number };
}
interface IntentValue {
  readonly to: number;
  readonly from: number;
  readonly from_token: number;
}
interface RunValue {
  readonly action_uid: string;
  readonly status: ActionStatus;
  readonly progress: number;
}

export interface CheckResult {
  readonly violations: string[];
  /**
   * 503s outside any fault window: an availability finding. On a shared machine CPU starvation can
   * put a lease in honest doubt with no fault injected; these fail the run only with --strict.
   */
  readonly availability: string[];
  /** Availability findings that are not safety violations (starvation, slow recovery). */
  readonly notes: string[];
  readonly figures: Record<string, number | string>;
}

/** Replays the history batch by batch (revision order), checking each master move and run move. */
export class HistoryChecker {
  readonly violations: string[] = [];
  #master: KeyValue | undefined;
  #transfer: KeyValue | undefined;
  #epoch = 0;
  readonly runs = new Map<string, RunValue>();
  readonly users = new Map<string, string>();
  masterChanges = 0;
  elections = 0;
  takeOvers = 0;
  forcedTakeOvers = 0;
  revisions = 0;

  constructor(private readonly prefix: string) {}

  apply(batch: WatchBatch): void {
    this.revisions++;
    const p = this.prefix;
    const masterPut = batch.events.find((e) => e.type === 'put' && e.kv.key === `${p}master`);
    const transferDeleted = batch.events.some((e) => e.type === 'delete' && e.kv.key === `${p}transfer`);
    if (masterPut) {
      const next = JSON.parse(masterPut.kv.value) as MasterValue;
      const prev = this.#master ? (JSON.parse(this.#master.value) as MasterValue) : undefined;
      if (prev) {
        // Overwriting a live master key is legal only as a take-over: the intent naming this node,
        // written against the old key's revision, deleted in the same transaction.
        const intent = this.#transfer ? (JSON.parse(this.#transfer.value) as IntentValue) : undefined;
        if (next.forced !== undefined) {
          // The fast failover's take-over, in a transaction guarded by the dead master's token: legal
          // only against exactly the key it replaced.
          this.forcedTakeOvers++;
          if (next.forced.from_token !== this.#master!.modRevision)
            this.violations.push(
              `revision ${batch.revision}: forced take-over (node ${prev.node_uid} -> ${next.node_uid}) names token ` +
                `${String(next.forced.from_token)}, but the key it replaced was at ${this.#master!.modRevision}`,
            );
        } else if (
          !transferDeleted ||
          !intent ||
          intent.to !== next.node_uid ||
          intent.from_token !== this.#master!.modRevision
        ) {
          this.violations.push(
            `revision ${batch.revision}: master key overwritten (node ${prev.node_uid} -> ${next.node_uid}) outside the hand-over protocol`,
          );
        }
        this.takeOvers++;
      } else {
        this.elections++;
      }
      if (next.epoch <= this.#epoch)
        this.violations.push(
          `revision ${batch.revision}: master epoch ${next.epoch} did not grow (was ${this.#epoch})`,
        );
      this.#epoch = Math.max(this.#epoch, next.epoch);
      this.masterChanges++;
    }
    for (const ev of batch.events) {
      const key = ev.kv.key;
      if (key === `${p}master`) this.#master = ev.type === 'put' ? ev.kv : undefined;
      else if (key === `${p}transfer`) this.#transfer = ev.type === 'put' ? ev.kv : undefined;
      else if (key.startsWith(`${p}actions/`) && ev.type === 'put')
        this.#run(batch.revision, JSON.parse(ev.kv.value) as RunValue);
      else if (key.startsWith(`${p}actions/`) && ev.type === 'delete')
        this.violations.push(`revision ${batch.revision}: run ${key} was deleted`);
      else if (key.startsWith(`${p}user-emails/`)) {
        const email = key.slice(`${p}user-emails/`.length);
        if (ev.type === 'put') this.users.set(email, ev.kv.value);
        else this.users.delete(email);
      }
    }
  }

  #run(revision: number, run: RunValue): void {
    const prev = this.runs.get(run.action_uid);
    if (!prev && run.status !== 'queued')
      this.violations.push(`revision ${revision}: run ${run.action_uid} first stored as ${run.status}`);
    if (prev) {
      if (prev.status !== run.status && !reachable(prev.status, run.status))
        this.violations.push(
          `revision ${revision}: run ${run.action_uid} moved ${prev.status} -> ${run.status}`,
        );
      if (prev.status === run.status && isTerminal(prev.status))
        this.violations.push(
          `revision ${revision}: terminal run ${run.action_uid} (${run.status}) rewritten`,
        );
      if (run.progress < prev.progress)
        this.violations.push(
          `revision ${revision}: run ${run.action_uid} progress ${prev.progress} -> ${run.progress}`,
        );
    }
    this.runs.set(run.action_uid, run);
  }
}

/** Whether `to` is reachable from `from` by legal moves (one write may take several, e.g. queued -> starting -> running). */
function reachable(from: ActionStatus, to: ActionStatus): boolean {
  const seen = new Set<ActionStatus>([from]);
  const queue: ActionStatus[] = [from];
  const all: ActionStatus[] = [
    'queued',
    'starting',
    'running',
    'cancelling',
    'cancelled',
    'completed',
    'failed',
  ];
  while (queue.length > 0) {
    const s = queue.shift()!;
    for (const next of all) {
      if (!seen.has(next) && canMove(s, next)) {
        if (next === to) return true;
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return false;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function fmt(values: number[]): string {
  if (values.length === 0) return 'n=0';
  return `n=${values.length} median ${percentile(values, 50)} ms, p90 ${percentile(values, 90)} ms, max ${Math.max(...values)} ms`;
}

/** Judges the journal against the history; `graceMs` is how long after recovery 503s stay excused. */
export function check(journal: Journal, history: HistoryChecker, graceMs: number): CheckResult {
  const violations = [...history.violations];
  const availability: string[] = [];
  const notes: string[] = [];
  const figures: Record<string, number | string> = {};
  const starved = (t: number): boolean => journal.starvedNear(t, 500);

  // 1. Never two masters at once. Each is_master answer carries since when the node has said so
  //    without a break and when it answered (one host, one clock), so each claim is a known interval
  //    [since, answered]; two nodes' intervals must never overlap. (Answers that merely arrive in one
  //    round, late, do not count: the machine is shared and answers can lag by a second.)
  const claims = new Map<string, { node: number; since: number; until: number }>();
  let untimed = 0;
  for (const s of journal.samples) {
    if (!s.isMaster) continue;
    if (s.masterSince === undefined || s.checkedAt === undefined) {
      untimed++;
      continue;
    }
    const key = `${s.node}:${s.masterSince}`;
    const c = claims.get(key);
    if (c) c.until = Math.max(c.until, s.checkedAt);
    else claims.set(key, { node: s.node, since: s.masterSince, until: s.checkedAt });
  }
  const list = [...claims.values()].sort((a, b) => a.since - b.since);
  let overlaps = 0;
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length && list[j]!.since <= list[i]!.until; j++) {
      const a = list[i]!;
      const b = list[j]!;
      if (a.node === b.node) continue;
      overlaps++;
      violations.push(
        `${new Date(b.since).toISOString()}: node ${b.node} said master from ${b.since} while node ${a.node} said so from ${a.since} until ${a.until}`,
      );
    }
  }
  // One round, two masters: reported, but judged by the intervals above.
  let doubleRounds = 0;
  for (const round of journal.rounds) if (round.filter((s) => s.isMaster).length > 1) doubleRounds++;
  if (doubleRounds > 0)
    notes.push(
      `${doubleRounds} healthcheck rounds got two is_master answers (late answers; see the interval check)`,
    );
  figures['master claims (node terms seen)'] = list.length;
  figures['overlapping master claims'] = overlaps;
  figures['rounds with two is_master answers'] = doubleRounds;
  if (untimed > 0) figures['is_master answers without times'] = untimed;

  // 3. Every accepted run reached a terminal status; none lost.
  let lost = 0;
  let stuck = 0;
  for (const [uid] of journal.acceptedRuns) {
    const run = history.runs.get(uid);
    if (!run) {
      lost++;
      violations.push(`run ${uid} was accepted (200) but never stored`);
    } else if (!isTerminal(run.status)) {
      stuck++;
      violations.push(`run ${uid} ended the run ${run.status}, not terminal`);
    }
  }
  figures['runs accepted'] = journal.acceptedRuns.size;
  figures['runs stored'] = history.runs.size;
  const byStatus = new Map<string, number>();
  for (const r of history.runs.values()) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  figures['runs by final status'] = [...byStatus].map(([k, v]) => `${k} ${v}`).join(', ');
  figures['runs lost'] = lost;
  figures['runs stuck'] = stuck;

  // 4. 5xx: only 503 store_unavailable, and only during a fault (or its recovery plus grace).
  let bad5xx = 0;
  let excused503 = 0;
  let unexcused503 = 0;
  let stale404 = 0;
  for (const a of journal.answers) {
    if (a.status >= 500) {
      if (a.status !== 503 || a.errorCode !== 'store_unavailable') {
        bad5xx++;
        violations.push(
          `${new Date(a.sentAt).toISOString()}: node ${a.node} answered ${a.status} ${a.errorCode ?? ''} to ${a.what}`,
        );
      } else if (journal.inFault(a.sentAt, graceMs, (w) => w.storeFault || w.nodes.includes(a.node))) {
        excused503++;
      } else if (starved(a.sentAt)) {
        notes.push(
          `${new Date(a.sentAt).toISOString()}: node ${a.node} answered 503 with no fault, the harness starved`,
        );
      } else {
        unexcused503++;
        availability.push(
          `${new Date(a.sentAt).toISOString()}: node ${a.node} answered 503 store_unavailable outside any fault (${a.what})`,
        );
      }
    }
    // A 404 for a run accepted well before the request was sent: the node served a stale view.
    if (a.status === 404 && a.what === 'GET run') {
      // (The uid is not in the answer; stale 404s are found below from the accepted map.)
    }
  }
  figures['requests'] = journal.requests;
  figures['503 during faults'] = excused503;
  figures['503 outside faults'] = unexcused503;
  figures['other 5xx'] = bad5xx;
  stale404 = journal.stale404.filter((s) => !starved(s.at)).length;
  for (const s of journal.stale404.filter((x) => !starved(x.at)))
    violations.push(
      `${new Date(s.at).toISOString()}: node ${s.node} answered 404 for run ${s.uid}, accepted ${s.ageMs} ms before`,
    );
  figures['stale 404 reads'] = stale404;

  // 5. No acknowledged user lost.
  let usersLost = 0;
  for (const [email, u] of journal.users) {
    const present = history.users.has(email.toLowerCase());
    if (u.state === 'created' && !present) {
      if (u.deleteMayHaveApplied) {
        notes.push(`user ${email} is gone after a DELETE of unknown outcome (${u.calls.join(', ')})`);
      } else {
        usersLost++;
        violations.push(`user ${email} was acknowledged created but is gone (${u.calls.join(', ')})`);
      }
    }
    if (u.state === 'deleted' && present)
      violations.push(`user ${email} was acknowledged deleted but is still there (${u.calls.join(', ')})`);
  }
  figures['users acknowledged'] = journal.users.size;
  figures['users lost'] = usersLost;
  figures['master changes (store history)'] =
    `${history.masterChanges} (${history.elections} elections, ${history.takeOvers} take-overs, ` +
    `${history.forcedTakeOvers} of them forced by the fast failover)`;
  figures['store revisions checked'] = history.revisions;
  figures['harness stalls > 150 ms'] = journal.stalls.length;
  return { violations, availability, notes, figures };
}
