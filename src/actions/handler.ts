/**
 * What an action handler is given and what it returns. Handlers see the cluster only through the
 * narrow interfaces here, so a unit test can drive one with a mock context and no store.
 */
import type { Logger } from 'pino';

import type { ActionRun, RunUpdate } from './run.js';

// What a handler may record on its run; it lives with the run (run.ts).
export type { RunUpdate } from './run.js';

/** A member as an action sees it. */
export interface MemberView {
  readonly uid: number;
  /** Registered and holding a live lease (a fresh heartbeat). */
  readonly active: boolean;
}

/** The current master as an action sees it. */
export interface MasterView {
  readonly node_uid: number;
  readonly epoch: number;
}

/** Read-only cluster state: all that validation at submit time needs. */
export interface ClusterReadout {
  readonly selfUid: number;
  master(): MasterView | undefined;
  member(uid: number): MemberView | undefined;
}

export type HandOverResult =
  /** The target took the master key: this node is no longer master; the target finishes the run. */
  | { readonly kind: 'taken_over' }
  /** Withdrawn: this node stays master. */
  | { readonly kind: 'timeout' | 'target_lost' | 'cancelled' };

/** What only the master can do for a handler. */
export interface ClusterControl extends ClusterReadout {
  /** Stops the engine from claiming new runs until the returned function is called. */
  pauseNewWork(): () => void;
  /**
   * Writes a fenced hand-over intent naming `to` and waits for the target to take over, for the
   * target to vanish, for the timeout or for `signal` to abort; withdraws the intent in the last three
   * cases. Rejects with NotMasterError when this node is deposed some other way meanwhile.
   */
  handOver(
    to: number,
    actionUid: string,
    options: {
      timeoutMs: number;
      signal: AbortSignal;
      /** Fields to record on the run in the intent's own transaction. */
      record?: RunUpdate;
    },
  ): Promise<HandOverResult>;
}

export interface ActionContext<P> {
  readonly run: ActionRun;
  readonly params: P;
  /**
   * Aborted when the run is cancelled (reason RunCancelled) or this node stops being master or
   * shuts down (MasterDeposed, NodeStopping): errors/abort-reasons.ts.
   */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly cluster: ClusterControl;
  /** Records progress (0-100, never backwards) and the phase; resolves once stored. */
  progress(pct: number, phase?: string): Promise<void>;
  /** Stores additive fields of the run (fenced, like every master write). */
  update(fields: RunUpdate): Promise<void>;
  /** Hand-over settings from the node's configuration. */
  readonly settings: { readonly handoverTimeoutMs: number };
}

/** What a new master knows when it finds a run that an earlier master left unfinished. */
export interface RecoveryContext<P> {
  readonly run: ActionRun;
  readonly params: P;
  readonly cluster: ClusterReadout;
  /** How this node became master: `viaAction` names the run whose hand-over made it master. */
  readonly term: {
    readonly epoch: number;
    readonly since: number;
    readonly viaAction: string | undefined;
    /** With `viaAction`: unix ms when the old master wrote the intent. */
    readonly intentAt?: number | undefined;
    /** The term just before this one, when known. */
    readonly previous:
      | {
          readonly epoch: number;
          readonly node_uid?: number | undefined;
          readonly via_action?: string | undefined;
        }
      | undefined;
  };
}

export type HandlerResult =
  | { readonly kind: 'completed'; readonly outcome: Record<string, unknown> }
  /** The work moved to another node, which will finish the run: the engine must not touch it again. */
  | { readonly kind: 'handed_off' };

/** One line of a dry-run preflight (src/actions/preflight.ts). */
export interface PreflightCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}

/** What a handler's own preflight checks may read: the view, and the store for a live record. */
export interface PreflightContext {
  readonly cluster: ClusterReadout;
  /** Whether the store itself (not this node's view) holds node `uid`'s lease-bound liveness record. */
  liveRecordInStore(uid: number): Promise<boolean>;
}

export interface ActionHandler<P = Record<string, unknown>> {
  readonly name: string;
  /** Validates a POST body against the cluster as the receiving node sees it; throws BosunError. */
  validate(body: unknown, cluster: ClusterReadout): P;
  /**
   * The handler's checks for a dry run: throws BosunError 400 for a body no run could take, and
   * reports everything else (such as a target that is down) as failed checks.
   */
  preflight?(body: unknown, ctx: PreflightContext): Promise<PreflightCheck[]>;
  run(ctx: ActionContext<P>): Promise<HandlerResult>;
  /** Ends an unfinished run truthfully on a new master: resolves with the outcome or throws ActionFailure. */
  recover(ctx: RecoveryContext<P>): Promise<HandlerResult>;
}

// Handlers throw these; they live with the layer's other errors.
export { ActionCancelled, ActionFailure } from './errors.js';
