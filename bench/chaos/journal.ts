/**
 * What the chaos run saw, in one place: every fault window, every HTTP answer that matters to an
 * invariant, and every master_healthcheck sample. The checker (checker.ts) reads only this and the
 * store's own history, never the nodes' logs.
 */

export type FaultKind =
  | 'node_kill'
  | 'master_kill'
  | 'node_pause'
  | 'master_pause'
  | 'member_kill'
  | 'leader_kill'
  | 'quorum_loss'
  | 'partition_full'
  | 'partition_replies';

export interface FaultWindow {
  readonly kind: FaultKind;
  /** Nodes directly hit (killed, paused, cut off); empty for store-wide faults. */
  readonly nodes: readonly number[];
  /** Whether the store itself (or a node's path to it) was hit: 503 store_unavailable is then allowed. */
  readonly storeFault: boolean;
  readonly start: number;
  end: number | undefined;
  /** For store-wide faults: when every etcd member answered health again after the fault ended. */
  storeHealthyAt?: number | undefined;
  /** When every responsive node answered 200 to a read and agreed on one master again. */
  recoveredAt?: number | undefined;
  /** The master at the start of the fault, when known. */
  readonly masterBefore: number | undefined;
  /** The first agreed master after the fault began (may be the same node). */
  masterAfter?: number | undefined;
  /** When the first node other than a stopped master said it was master after the fault began. */
  nextMasterAt?: number | undefined;
}

export interface HealthSample {
  readonly node: number;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly isMaster: boolean;
  readonly masterStatus: string | undefined;
  readonly storeReachable: boolean;
  /** With isMaster: since when the node has said so without a break, and when it answered (unix ms). */
  readonly masterSince: number | undefined;
  readonly checkedAt: number | undefined;
}

export interface HttpAnswer {
  readonly node: number;
  readonly what: string;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly status: number;
  readonly errorCode: string | undefined;
}

export class Journal {
  readonly faults: FaultWindow[] = [];
  readonly samples: HealthSample[] = [];
  /** Healthcheck rounds: every node asked at once; the samples of one round. */
  readonly rounds: HealthSample[][] = [];
  readonly answers: HttpAnswer[] = [];
  /** action_uid -> when it was accepted (200 to the POST). */
  readonly acceptedRuns = new Map<string, number>();
  /**
   * email -> acknowledged state: 'created' after a 200 to POST, 'deleted' after a 200 to DELETE;
   * `calls` lists every answer about the user in order ("DELETE 0" is no answer at all). A DELETE
   * with no answer, or a 5xx, may have been applied (the node can die after its commit): the user
   * may then be gone without a DELETE ever being acknowledged, and that is not a loss.
   */
  readonly users = new Map<
    string,
    { uid: number; state: 'created' | 'deleted'; at: number; calls: string[]; deleteMayHaveApplied: boolean }
  >();
  /** Event-loop stalls of the harness itself (ms late), with their time: starvation, not faults. */
  readonly stalls: { at: number; lateMs: number }[] = [];
  /** 404s to GET /v1/actions/<uid> for a run accepted more than a second before the request. */
  readonly stale404: { at: number; node: number; uid: string; ageMs: number }[] = [];
  requests = 0;

  openFault(w: Omit<FaultWindow, 'end'>): FaultWindow {
    const window: FaultWindow = { ...w, end: undefined };
    this.faults.push(window);
    return window;
  }

  /** Whether `t` falls inside a fault window (extended by `graceMs` after its end) matching `match`. */
  inFault(t: number, graceMs: number, match: (w: FaultWindow) => boolean = () => true): boolean {
    return this.faults.some(
      (w) => match(w) && t >= w.start && t <= (w.recoveredAt ?? w.end ?? Infinity) + graceMs,
    );
  }

  /** Whether the harness's own event loop stalled near `t` (its observations are then unreliable). */
  starvedNear(t: number, marginMs: number): boolean {
    return this.stalls.some((s) => Math.abs(s.at - t) <= marginMs + s.lateMs);
  }
}
