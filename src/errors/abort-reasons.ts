/**
 * Why a running action's signal was aborted, as typed reasons checked with `instanceof` (as
 * Temporal's CancelledFailure is), never strings compared by value. The engine aborts with one
 * (actions/engine.ts); a handler and the hand-over (cluster/hand-over.ts) read `signal.reason`: only
 * RunCancelled is a cancel a client asked for; the others mean this node may no longer act.
 */

/** Every reason the engine aborts a run's signal with. */
export abstract class AbortReason extends Error {}

/** A client cancelled the run (DELETE): the handler unwinds, and a hand-over withdraws its intent. */
export class RunCancelled extends AbortReason {
  constructor() {
    super('cancelled');
    this.name = 'RunCancelled';
  }
}

/** This node's master term ended (`why` says how): the next master ends the run, this one must not. */
export class MasterDeposed extends AbortReason {
  constructor(readonly why: string) {
    super(`deposed: ${why}`);
    this.name = 'MasterDeposed';
  }
}

/** The node is shutting down: the run stays unfinished for the next master to end. */
export class NodeStopping extends AbortReason {
  constructor() {
    super('node shutting down');
    this.name = 'NodeStopping';
  }
}
