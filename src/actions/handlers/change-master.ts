/**
 * `change_master`: moves the master role to another node through the intent protocol (docs/design.md,
 * "Election and hand-over"). The old master validates, stops starting new work, writes a fenced intent and
 * waits; the target takes the master key in one transaction and, now master, finishes this same run through
 * `recover`, recording the measured hand-over.
 */
import { BosunError } from '../../errors/catalogue.js';
import { PAST_HAND_OVER_INTENT } from '../conflict.js';
import { parseChangeMasterBody, type ChangeMasterParams } from './change-master-params.js';
import { changeMasterPreflight } from './change-master-preflight.js';
import {
  ActionCancelled,
  ActionFailure,
  type ActionContext,
  type ActionHandler,
  type ClusterReadout,
  type HandlerResult,
  type HandOverResult,
  type RecoveryContext,
} from '../handler.js';

export { parseNodeUid, type ChangeMasterParams } from './change-master-params.js';

/** What the old master records before writing the intent, so whoever finishes the run can measure. */
interface HandOverCheckpoint {
  readonly from: number;
  readonly to: number;
  readonly from_epoch: number;
  /** Unix ms when the old master stopped starting new work and wrote the intent. */
  readonly intent_at: number;
  /** Unix ms when the run was claimed: the start of the POST-to-completed clock on the server. */
  readonly claimed_at: number;
}

function validateTarget(uid: number, cluster: ClusterReadout): void {
  const member = cluster.member(uid);
  if (!member) throw new BosunError('node_not_found', `Node ${uid} does not exist.`);
  if (!member.active)
    throw new BosunError('node_not_active', `Node ${uid} is not active (no live heartbeat).`);
}

export const changeMaster: ActionHandler<ChangeMasterParams> = {
  name: 'change_master',

  validate(body, cluster) {
    const params = parseChangeMasterBody(body);
    validateTarget(params.node_uid, cluster);
    return params;
  },

  preflight: changeMasterPreflight,

  async run(ctx: ActionContext<ChangeMasterParams>): Promise<HandlerResult> {
    const claimedAt = Date.now();
    const target = ctx.params.node_uid;
    const self = ctx.cluster.selfUid;
    // Validation reads this node's view only; it records nothing, so the hand-over starts at once.
    const master = ctx.cluster.master();
    if (target === self) {
      return {
        kind: 'completed',
        outcome: {
          noop: true,
          message: `Node ${target} is already the master; nothing to do.`,
          old_master: String(self),
          new_master: String(self),
          epoch: master?.epoch,
        },
      };
    }
    try {
      validateTarget(target, ctx.cluster);
    } catch (err) {
      if (err instanceof BosunError)
        throw new ActionFailure(
          err.code === 'node_not_found' ? 'node_not_found' : 'node_not_active',
          err.message,
        );
      throw err;
    }
    if (ctx.signal.aborted) throw new ActionCancelled();

    const resume = ctx.cluster.pauseNewWork();
    try {
      const checkpoint: HandOverCheckpoint = {
        from: self,
        to: target,
        from_epoch: master?.epoch ?? 0,
        intent_at: Date.now(),
        claimed_at: claimedAt,
      };
      // The point of no return: once the intent is out, the target may take over at any instant, so a
      // cancel can only try to withdraw it. The run records this in the intent's own transaction;
      // whoever finishes the run learns the intent's time and the old master from its own term.
      const result = await ctx.cluster.handOver(target, ctx.run.action_uid, {
        timeoutMs: ctx.settings.handoverTimeoutMs,
        signal: ctx.signal,
        record: {
          phase: 'handing_over',
          progress: 40,
          cancellable: false,
          cancellable_reason: PAST_HAND_OVER_INTENT,
          checkpoint: { ...checkpoint },
        },
      });
      return handOverEnd(result, target, self, ctx.settings.handoverTimeoutMs);
    } finally {
      resume();
    }
  },

  async recover(ctx: RecoveryContext<ChangeMasterParams>): Promise<HandlerResult> {
    const self = ctx.cluster.selfUid;
    const checkpoint = ctx.run.checkpoint as HandOverCheckpoint | undefined;
    if (ctx.term.viaAction === ctx.run.action_uid) {
      const now = Date.now();
      const intentAt = ctx.term.intentAt ?? checkpoint?.intent_at ?? ctx.term.since;
      const claimedAt =
        checkpoint?.claimed_at ?? (ctx.run.start_time ? Date.parse(ctx.run.start_time) : undefined);
      const from = ctx.term.previous?.node_uid ?? checkpoint?.from ?? ctx.run.node_uid;
      return {
        kind: 'completed',
        outcome: {
          old_master: from !== undefined ? String(from) : undefined,
          new_master: String(self),
          epoch: ctx.term.epoch,
          // From the intent (old master stops starting work) to the new master confirming.
          handover_ms: Math.max(0, now - intentAt),
          // From the intent to the take-over transaction: no master was starting new work meanwhile.
          no_master_window_ms: Math.max(0, ctx.term.since - intentAt),
          ...(claimedAt !== undefined ? { server_total_ms: Math.max(0, now - claimedAt) } : {}),
        },
      };
    }
    const target = ctx.params.node_uid;
    const from = checkpoint?.from ?? (ctx.run.node_uid !== undefined ? Number(ctx.run.node_uid) : undefined);
    const previous = ctx.term.previous;
    const elected = `node ${self} was elected master (epoch ${ctx.term.epoch})`;
    const outcome = {
      old_master: from !== undefined ? String(from) : undefined,
      new_master: String(self),
      epoch: ctx.term.epoch,
    };
    if (previous?.via_action === ctx.run.action_uid) {
      throw new ActionFailure(
        'master_lost',
        `Node ${target} took over as master (epoch ${previous.epoch}) but was lost before confirming the hand-over; ${elected}.`,
        outcome,
      );
    }
    const master = from !== undefined ? `Master node ${from}` : 'The master';
    if (ctx.cluster.member(target)?.active !== true && target !== self) {
      throw new ActionFailure(
        'handover_target_lost',
        `Node ${target} left the cluster during the hand-over (its lease lapsed) and ${master.toLowerCase()} was lost too; ${elected}.`,
        outcome,
      );
    }
    throw new ActionFailure(
      'master_lost',
      `${master} was lost before the hand-over to node ${target} finished; ${elected}.`,
      outcome,
    );
  },
};

/** What a hand-over's result means for the run: handed off, or the old master stays and says why. */
function handOverEnd(result: HandOverResult, target: number, self: number, timeoutMs: number): HandlerResult {
  const stays = { old_master: String(self), new_master: String(self) };
  switch (result.kind) {
    case 'taken_over':
      return { kind: 'handed_off' };
    case 'cancelled':
      throw new ActionCancelled({
        message: `Cancelled before node ${target} took over; node ${self} remains master.`,
      });
    case 'target_lost':
      throw new ActionFailure(
        'handover_target_lost',
        `Node ${target} left the cluster during the hand-over; node ${self} remains master.`,
        stays,
      );
    case 'timeout':
      throw new ActionFailure(
        'handover_timeout',
        `Node ${target} did not take over within ${timeoutMs} ms; node ${self} remains master.`,
        stays,
      );
    default: {
      const never: never = result;
      throw new Error(`unexpected hand-over result ${JSON.stringify(never)}`);
    }
  }
}
