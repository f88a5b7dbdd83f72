/**
 * The hand-over protocol, both halves, in one place (docs/design.md, "Election and hand-over"):
 *
 * - give (the old master): write a hand-over intent naming the target, under this node's lease and
 *   fenced by its token; wait for the target to take the master key, for the target to vanish, for
 *   the timeout or for a cancel; withdraw the intent in the last three cases. From the moment the
 *   intent may be in the store, the node stops saying "master" (the target may already be it).
 * - take (the target): seeing an intent that names it, take the master key in one transaction,
 *   guarded by the intent's revision and by the old master's token. That revision fences the old
 *   master out at the same instant.
 *
 * master.ts keeps election and fencing; it hands this class the narrow HandOverHost below.
 */
import type { Logger } from 'pino';

import { RunCancelled } from '../errors/abort-reasons.js';
import { NotMasterError } from '../errors/domain.js';
import { retry } from '../lib/retry.js';
import { decodeKv, putRecord } from '../store/typed-key.js';
import type { Compare, Lease, Op, Store, TxnRequest, TxnResult } from '../store/types.js';
import {
  transferIntent,
  type ClusterKeys,
  type EpochRecord,
  type MasterRecord,
  type TransferIntent,
} from './keys.js';
import type { MasterTerm } from './term.js';
import type { ClusterView } from './view.js';

export type HandOverOutcome = 'taken_over' | 'timeout' | 'target_lost' | 'cancelled';

export interface HandOverOptions {
  readonly timeoutMs: number;
  /** Aborting with a RunCancelled reason withdraws the intent; any other reason means "deposed". */
  readonly signal: AbortSignal;
  /** Writes to make in the intent's own transaction, when their compares hold (bookkeeping). */
  readonly alongside?: { compare: Compare[]; ops: Op[] } | undefined;
}

/**
 * Writes a higher layer adds to the take-over's own transaction: the engine finishes the
 * `change_master` run there, so confirming the hand-over costs no round trip of its own.
 */
export type TakeOverExtras = (
  intent: TransferIntent,
  since: number,
) => Promise<{ compare: Compare[]; ops: Op[] } | undefined>;

/** What the hand-over needs of the master role, and nothing more. */
export interface HandOverHost {
  readonly uid: number;
  term(): MasterTerm | undefined;
  lease(): Lease | undefined;
  stopped(): boolean;
  fencedTxn(request: TxnRequest, decidedUnder?: MasterTerm): Promise<TxnResult>;
  /** An intent may be in the store: stop saying "master". */
  pauseClaim(): void;
  /** The intent is certainly gone and the fence held: say "master" again, from now. */
  resumeClaim(): void;
  /** A take-over won: begin the term. */
  begin(term: MasterTerm): void;
}

export class HandOver {
  #extras: TakeOverExtras | undefined;

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly host: HandOverHost,
    private readonly log: Logger,
  ) {}

  setTakeOverExtras(extras: TakeOverExtras): void {
    this.#extras = extras;
  }

  /** The old master's half: hands mastership to `to` for run `actionUid`. */
  async give(to: number, actionUid: string, options: HandOverOptions): Promise<HandOverOutcome> {
    const { revision } = await this.#writeIntent(to, actionUid, options.alongside);
    const takenOver = (): boolean => {
      const current = this.view.read(this.keys.master);
      return current?.node_uid === to && current.via_action === actionUid;
    };
    const waited = await this.#wait(to, takenOver, options);
    if (waited === 'taken_over') return waited;
    if (waited === 'deposed') {
      if (takenOver()) return 'taken_over';
      throw new NotMasterError('deposed while handing over');
    }
    // The target may win the race against the withdrawal; the fence decides who did.
    const withdrawn = await this.#withdrawIntent(revision);
    return withdrawn ? waited : 'taken_over';
  }

  #wait(
    to: number,
    takenOver: () => boolean,
    options: HandOverOptions,
  ): Promise<HandOverOutcome | 'deposed'> {
    const { view, keys } = this;
    return new Promise<HandOverOutcome | 'deposed'>((resolve) => {
      const check = (): void => {
        if (takenOver()) finish('taken_over');
        else if (!view.get(keys.node(to).key)) finish('target_lost');
      };
      const onAbort = (): void =>
        finish(options.signal.reason instanceof RunCancelled ? 'cancelled' : 'deposed');
      const timer = setTimeout(() => finish('timeout'), options.timeoutMs);
      const finish = (outcome: HandOverOutcome | 'deposed'): void => {
        clearTimeout(timer);
        view.off('change', check);
        options.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      view.on('change', check);
      options.signal.addEventListener('abort', onAbort);
      if (options.signal.aborted) onAbort();
      else check();
    });
  }

  /**
   * Writes a hand-over intent naming `to`, under this node's lease, together with `extra` (the run's
   * own update) in the same fenced transaction. Resolves with the intent and its revision.
   */
  async #writeIntent(
    to: number,
    actionUid: string,
    extra: { compare: Compare[]; ops: Op[] } = { compare: [], ops: [] },
  ): Promise<{ intent: TransferIntent; revision: number }> {
    const term = this.host.term();
    const lease = this.host.lease();
    if (!term || !lease) throw new NotMasterError();
    const intent: TransferIntent = {
      to,
      from: this.host.uid,
      from_token: term.token,
      epoch: term.epoch + 1,
      action_uid: actionUid,
      created_at: Date.now(),
    };
    const put = putRecord(this.keys.transfer, intent, lease.id);
    const pending: Compare = { key: this.keys.transfer.key, target: 'create', op: '=', value: 0 };
    // From the moment the intent may land, the target may take over: stop saying "master".
    this.host.pauseClaim();
    let result: TxnResult;
    try {
      result = await this.host.fencedTxn({
        compare: [pending, ...extra.compare],
        success: [put, ...extra.ops],
      });
      if (!result.succeeded && extra.ops.length > 0) {
        // The extra writes are the caller's bookkeeping; when their compare fails, the intent goes alone.
        result = await this.host.fencedTxn({ compare: [pending], success: [put] });
      }
    } catch (err) {
      if (this.host.term() === term) void this.#settleUnknownIntent(term, intent);
      throw err;
    }
    if (!result.succeeded) {
      if (this.host.term() === term) this.host.resumeClaim();
      throw new Error('another hand-over intent is already pending');
    }
    return { intent, revision: result.revision };
  }

  /**
   * Withdraws an intent. Resolves true when withdrawn (this node stays master) and false when the
   * target had already taken over.
   */
  async #withdrawIntent(intentRevision: number): Promise<boolean> {
    const term = this.host.term();
    try {
      await this.host.fencedTxn({
        compare: [{ key: this.keys.transfer.key, target: 'mod', op: '=', value: intentRevision }],
        success: [{ type: 'delete', key: this.keys.transfer.key }],
      });
      // The claim resumes only now: the intent is certainly gone and the fence still held.
      if (this.host.term() === term) this.host.resumeClaim();
      return true;
    } catch (err) {
      if (err instanceof NotMasterError) return false;
      throw err;
    }
  }

  /**
   * An intent write whose outcome is unknown: find out from the store, and withdraw the intent if it
   * landed, before this node says "master" again.
   */
  async #settleUnknownIntent(term: MasterTerm, intent: TransferIntent): Promise<void> {
    await retry(
      async () => {
        const kv = await this.store.get(this.keys.transfer.key);
        const found = kv && decodeKv(transferIntent, kv);
        const ours = found?.action_uid === intent.action_uid && found.from_token === term.token;
        if (!kv || !ours || (await this.#withdrawIntent(kv.modRevision))) {
          if (this.host.term() === term) this.host.resumeClaim();
        }
      },
      () => this.host.term() === term && !this.host.stopped(),
    ).catch(() => undefined);
  }

  /** The target's half: takes the master key from the intent's writer, in one guarded transaction. */
  async take(leaseId: string, intent: TransferIntent, intentRevision: number): Promise<void> {
    const previous: EpochRecord = { epoch: intent.epoch - 1, node_uid: intent.from };
    const since = Date.now();
    const record: MasterRecord = {
      node_uid: this.host.uid,
      epoch: intent.epoch,
      since,
      via_action: intent.action_uid,
      via_intent_at: intent.created_at,
      previous,
    };
    const nextEpoch: EpochRecord = {
      epoch: intent.epoch,
      node_uid: this.host.uid,
      via_action: intent.action_uid,
    };
    const compare: Compare[] = [
      { key: this.keys.transfer.key, target: 'mod', op: '=', value: intentRevision },
      { key: this.keys.master.key, target: 'mod', op: '=', value: intent.from_token },
    ];
    const success: Op[] = [
      putRecord(this.keys.master, record, leaseId),
      putRecord(this.keys.epoch, nextEpoch),
      { type: 'delete', key: this.keys.transfer.key },
    ];
    const extras = await this.#extras?.(intent, since).catch(() => undefined);
    let result = await this.store.txn(
      extras
        ? { compare: [...compare, ...extras.compare], success: [...success, ...extras.ops] }
        : { compare, success },
    );
    // The extras are the run's bookkeeping: if only their compare failed, take over without them
    // (the engine then finishes the run the ordinary way).
    if (!result.succeeded && extras) result = await this.store.txn({ compare, success });
    if (!result.succeeded) {
      this.log.info({ intent }, 'hand-over intent was withdrawn or superseded before the take-over');
      return;
    }
    this.log.info(
      { epoch: intent.epoch, token: result.revision, from: intent.from },
      `node ${this.host.uid} took over as master`,
    );
    this.host.begin({
      token: result.revision,
      epoch: intent.epoch,
      since,
      viaAction: intent.action_uid,
      intentAt: intent.created_at,
      previous,
    });
  }
}
