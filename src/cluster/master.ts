/**
 * Master election, fencing and the take-over half of the hand-over (DESIGN.md, "Master election and
 * change_master").
 *
 * - Election: when the view shows no master key, a joined node creates it in one transaction under
 *   its own lease (create-if-absent), taking the last epoch + 1.
 * - Fencing: the master key's mod revision is the fencing token. Every write the master makes as
 *   master carries `mod(master) == token`, so a deposed master can never write, even while it still
 *   believes it is master.
 * - Self-fencing: the master stops acting once its lease is no longer certainly alive on the server
 *   (`lease.safeUntil` minus a margin), before the server could have expired it and elected another.
 * - Take-over: a node that sees a hand-over intent naming it takes the master key in one transaction,
 *   guarded by the intent's revision and by the old master's token. That revision fences the old
 *   master out at the same instant.
 */
import { EventEmitter } from 'node:events';

import type { Logger } from 'pino';

import { CoalescingTask } from '../lib/coalescing-task.js';
import { retry } from '../lib/retry.js';
import { decodeKv, putRecord } from '../store/typed-key.js';
import type { Compare, Op, Store, TxnRequest, TxnResult } from '../store/types.js';
import {
  epochRecord,
  masterRecord,
  transferIntent,
  type ClusterKeys,
  type EpochRecord,
  type ForcedTakeOver,
  type MasterRecord,
  type TransferIntent,
} from './keys.js';
import type { Membership } from './membership.js';
import type { ClusterView } from './view.js';

export class NotMasterError extends Error {
  constructor(message = 'this node is not the master') {
    super(message);
    this.name = 'NotMasterError';
  }
}

/** One continuous period of this node being master. */
export interface MasterTerm {
  /** The master key's mod revision: the fencing token. */
  readonly token: number;
  readonly epoch: number;
  /** Unix ms when the term began (the election or take-over transaction returned). */
  readonly since: number;
  /** The `change_master` run whose hand-over made this node master, if any. */
  readonly viaAction: string | undefined;
  /** With `viaAction`: unix ms when the old master wrote the intent. */
  readonly intentAt?: number | undefined;
  /** The term before this one. */
  readonly previous: EpochRecord | undefined;
}

/**
 * Writes a higher layer adds to the take-over's own transaction: the engine finishes the
 * `change_master` run there, so confirming the hand-over costs no round trip of its own.
 */
export type TakeOverExtras = (
  intent: TransferIntent,
  since: number,
) => Promise<{ compare: Compare[]; ops: Op[] } | undefined>;

/**
 * What this node can truthfully say about its own role:
 * - master: it holds a term and its lease is certainly alive;
 * - handing_over: it wrote (or may have written) a hand-over intent; the target may be master already;
 * - fenced: it stopped acting because its lease could not be confirmed, and has not rejoined yet;
 * - none: a follower.
 */
export type MasterStatus = 'master' | 'handing_over' | 'fenced' | 'none';

export interface MasterRoleEvents {
  elected: [term: MasterTerm];
  deposed: [term: MasterTerm, reason: string];
}

export class MasterRole extends EventEmitter<MasterRoleEvents> {
  #term: MasterTerm | undefined;
  #stopped = false;
  #fenceTimer: NodeJS.Timeout | undefined;
  #takeOverExtras: TakeOverExtras | undefined;
  /** Set from the moment an intent may be in the store until it is known withdrawn or the term ends. */
  #intentPending = false;
  /** Set when the role fenced itself; cleared when the node rejoins under a new lease. */
  #fenced = false;
  /** Set while a self-fenced master waits to see whether its lease is confirmed before giving it up. */
  #abandonTimer: NodeJS.Timeout | undefined;
  /** Unix ms since when this node has said "master" without a break (a term, or a withdrawal). */
  #claimSince = 0;
  readonly #evaluation = new CoalescingTask(() => this.#evaluateOnce(), {
    onError: (err) => this.log.warn({ err }, 'master evaluation failed; will retry on the next change'),
  });
  readonly #onChange = (): void => this.evaluate();

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly membership: Membership,
    private readonly log: Logger,
  ) {
    super();
  }

  get uid(): number {
    return this.membership.uid;
  }

  /** The current term, while this node is master and its lease is certainly alive. */
  get term(): MasterTerm | undefined {
    return this.#term;
  }

  /** Whether this node acts as master and may say so: not fenced, not handing over. */
  get isMaster(): boolean {
    return this.status === 'master';
  }

  /** While `status` is master: since when it has been, without a break (unix ms). */
  get claimSince(): number | undefined {
    return this.status === 'master' ? this.#claimSince : undefined;
  }

  get status(): MasterStatus {
    const term = this.#term;
    if (!term) return this.#fenced ? 'fenced' : 'none';
    const lease = this.membership.lease;
    // Past the fence deadline the timer may simply not have run yet (a busy event loop): say so now.
    if (!lease || Date.now() >= this.#fenceDeadline(lease.safeUntil, lease.ttlMs)) return 'fenced';
    return this.#intentPending ? 'handing_over' : 'master';
  }

  setTakeOverExtras(extras: TakeOverExtras): void {
    this.#takeOverExtras = extras;
  }

  start(): void {
    this.view.on('change', this.#onChange);
    this.view.on('resync', this.#onChange);
    this.membership.on('joined', (lease) => {
      this.#fenced = false;
      lease.on('renewed', () => {
        this.#armSelfFence();
        if (!this.#term) this.evaluate();
      });
      this.evaluate();
    });
    this.membership.on('lost', () => this.#depose('membership lease lost'));
    this.evaluate();
  }

  stop(): void {
    this.#stopped = true;
    this.view.off('change', this.#onChange);
    this.view.off('resync', this.#onChange);
    if (this.#fenceTimer) clearTimeout(this.#fenceTimer);
    if (this.#abandonTimer) clearTimeout(this.#abandonTimer);
  }

  /**
   * Re-reads the view and acts: campaign when there is no master, take over when an intent names
   * this node, step down when the master key is no longer ours. Runs one pass at a time.
   */
  evaluate(): void {
    this.#evaluation.request();
  }

  async #evaluateOnce(): Promise<void> {
    if (this.#stopped || !this.view.synced) return;
    const lease = this.membership.lease;
    const masterKv = this.view.get(this.keys.master.key);
    const term = this.#term;

    if (term) {
      if (!lease) return this.#depose('lease lost');
      // The view may not have caught up with our own election yet; only a newer revision can depose.
      if (this.view.revision >= term.token && masterKv?.modRevision !== term.token) {
        const now = masterKv ? decodeKv(masterRecord, masterKv) : undefined;
        return this.#depose(
          now ? `node ${now.node_uid} is master now (epoch ${now.epoch})` : 'the master key is gone',
        );
      }
      return;
    }
    if (!lease || Date.now() >= this.#fenceDeadline(lease.safeUntil, lease.ttlMs)) return;

    if (!masterKv) {
      await this.#campaign(lease.id);
      return;
    }
    const master = decodeKv(masterRecord, masterKv);
    if (master.node_uid === this.uid && masterKv.lease === lease.id) {
      // Still ours: we had fenced ourselves while the lease was in doubt, and it was renewed in time.
      // The view may lag behind a deposition, so only the store itself can say so.
      const fresh = await this.store.get(this.keys.master.key);
      if (fresh?.modRevision !== masterKv.modRevision || fresh.lease !== lease.id) return;
      this.#begin({
        token: masterKv.modRevision,
        epoch: master.epoch,
        since: master.since,
        viaAction: master.via_action,
        intentAt: master.via_intent_at,
        previous: master.previous,
      });
      return;
    }
    const transferKv = this.view.get(this.keys.transfer.key);
    if (transferKv) {
      const intent = decodeKv(transferIntent, transferKv);
      if (intent.to === this.uid && intent.from_token === masterKv.modRevision) {
        await this.#takeOver(lease.id, intent, transferKv.modRevision);
      }
    }
  }

  async #campaign(leaseId: string): Promise<void> {
    const epochKv = await this.store.get(this.keys.epoch.key);
    const previous = epochKv ? decodeKv(epochRecord, epochKv) : undefined;
    const epoch = (previous?.epoch ?? 0) + 1;
    const record: MasterRecord = { node_uid: this.uid, epoch, since: Date.now(), previous };
    const nextEpoch: EpochRecord = { epoch, node_uid: this.uid };
    const result = await this.store.txn({
      compare: [
        { key: this.keys.master.key, target: 'create', op: '=', value: 0 },
        { key: this.keys.epoch.key, target: 'mod', op: '=', value: epochKv?.modRevision ?? 0 },
      ],
      success: [putRecord(this.keys.master, record, leaseId), putRecord(this.keys.epoch, nextEpoch)],
    });
    if (!result.succeeded) return;
    this.log.info({ epoch, token: result.revision, previous }, `node ${this.uid} elected master`);
    this.#begin({ token: result.revision, epoch, since: Date.now(), viaAction: undefined, previous });
  }

  /**
   * The fast failover's take-over (failure-detector.ts): replaces a master judged dead before its
   * lease runs out, in one transaction guarded by that master's token (so it happens at most once per
   * token, and never after the master changed), by the epoch record and by the `evidence` compares.
   * The winner then revokes the dead master's lease, clearing its liveness record and any intent.
   * Resolves whether this node became master. Safe even when the judgement is wrong: a live old master
   * is fenced out by the new token at that instant (docs/decisions.md, "Fast failover").
   */
  async forceTakeOver(deadToken: number, forced: ForcedTakeOver, evidence: Compare[] = []): Promise<boolean> {
    const lease = this.membership.lease;
    if (this.#stopped || this.#term || !lease) return false;
    if (Date.now() >= this.#fenceDeadline(lease.safeUntil, lease.ttlMs)) return false;
    const masterKv = this.view.get(this.keys.master.key);
    if (masterKv?.modRevision !== deadToken) return false;
    const dead = decodeKv(masterRecord, masterKv);
    // The view's epoch record first (no round trip); the compare catches a stale one.
    let epochKv = this.view.get(this.keys.epoch.key);
    for (let attempt = 0; attempt < 2; attempt++) {
      const previous = epochKv ? decodeKv(epochRecord, epochKv) : undefined;
      const epoch = (previous?.epoch ?? dead.epoch) + 1;
      const since = Date.now();
      const record: MasterRecord = {
        node_uid: this.uid,
        epoch,
        since,
        // The epoch record, as an election takes it: it names the run a hand-over came from.
        previous: previous ?? { epoch: dead.epoch, node_uid: dead.node_uid },
        forced,
      };
      const result = await this.store.txn({
        compare: [
          { key: this.keys.master.key, target: 'mod', op: '=', value: deadToken },
          { key: this.keys.epoch.key, target: 'mod', op: '=', value: epochKv?.modRevision ?? 0 },
          ...evidence,
        ],
        success: [
          putRecord(this.keys.master, record, lease.id),
          putRecord(this.keys.epoch, { epoch, node_uid: this.uid }),
        ],
      });
      if (result.succeeded) {
        this.log.warn(
          { epoch, token: result.revision, dead: dead.node_uid, deadToken, signal: forced.signal },
          `node ${this.uid} replaced dead master ${dead.node_uid} before its lease ran out`,
        );
        this.#begin({
          token: result.revision,
          epoch,
          since,
          viaAction: undefined,
          previous: record.previous,
        });
        if (masterKv.lease !== undefined) {
          const deadLease = masterKv.lease;
          void this.store
            .revokeLease(deadLease)
            .catch((err: unknown) => this.log.warn({ err }, 'could not revoke the dead master lease'));
        }
        return true;
      }
      // Only a moved epoch record is worth a second try; anything else means someone else acted.
      const [nowMaster, nowEpoch] = await Promise.all([
        this.store.get(this.keys.master.key),
        this.store.get(this.keys.epoch.key),
      ]);
      if (nowMaster?.modRevision !== deadToken || nowEpoch?.modRevision === epochKv?.modRevision)
        return false;
      epochKv = nowEpoch;
    }
    return false;
  }

  async #takeOver(leaseId: string, intent: TransferIntent, intentRevision: number): Promise<void> {
    const previous: EpochRecord = { epoch: intent.epoch - 1, node_uid: intent.from };
    const since = Date.now();
    const record: MasterRecord = {
      node_uid: this.uid,
      epoch: intent.epoch,
      since,
      via_action: intent.action_uid,
      via_intent_at: intent.created_at,
      previous,
    };
    const nextEpoch: EpochRecord = {
      epoch: intent.epoch,
      node_uid: this.uid,
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
    const extras = await this.#takeOverExtras?.(intent, since).catch(() => undefined);
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
      `node ${this.uid} took over as master`,
    );
    this.#begin({
      token: result.revision,
      epoch: intent.epoch,
      since,
      viaAction: intent.action_uid,
      intentAt: intent.created_at,
      previous,
    });
  }

  #begin(term: MasterTerm): void {
    this.#term = term;
    this.#claimSince = Date.now();
    this.#armSelfFence();
    this.emit('elected', term);
  }

  #depose(reason: string): void {
    const term = this.#term;
    if (!term) return;
    this.#term = undefined;
    this.#intentPending = false;
    if (this.#fenceTimer) clearTimeout(this.#fenceTimer);
    this.log.warn(
      { epoch: term.epoch, token: term.token },
      `node ${this.uid} stepped down as master: ${reason}`,
    );
    this.emit('deposed', term, reason);
    this.evaluate();
  }

  /**
   * Stop acting a third of a TTL before the lease could expire on the server: time for writes already
   * in flight to land or fail, and slack for clock-rate differences between this host and the store.
   */
  #fenceDeadline(safeUntil: number, ttlMs: number): number {
    return safeUntil - Math.floor(ttlMs / 3);
  }

  /**
   * The lease could not be confirmed in time: stop acting, and give the lease up rather than keep
   * renewing it. A master that hears no answers may still be heard (only its replies are lost); if it
   * kept renewing, its lease and key would live on and no other node could take over. Abandoning
   * revokes the lease as soon as a request gets through, which frees the master key at once.
   */
  #selfFence(): void {
    this.#fenced = true;
    this.#depose('lease not renewed in time (self-fenced)');
    // Give the lease up only once it is past its safe deadline unconfirmed. A master that was merely
    // paused (SIGSTOP, a long GC pause) for less than a TTL hears its first keep-alive answered on
    // resuming and takes its unchanged term back (see evaluate); giving up at the fence itself would
    // turn every such pause into a failover.
    const lease = this.membership.lease;
    if (!lease) return;
    if (this.#abandonTimer) clearTimeout(this.#abandonTimer);
    const giveUp = (): void => {
      this.#abandonTimer = undefined;
      if (this.#stopped || this.#term || this.membership.lease !== lease) return;
      // Confirmed in the meantime: the lease is healthy, whether or not this node is master again.
      if (lease.safeUntil > Date.now()) return;
      this.membership.abandon('self-fenced as master');
    };
    this.#abandonTimer = setTimeout(giveUp, Math.max(0, lease.safeUntil - Date.now()));
    this.#abandonTimer.unref();
  }

  #armSelfFence(): void {
    if (this.#fenceTimer) clearTimeout(this.#fenceTimer);
    const lease = this.membership.lease;
    if (!this.#term) return;
    if (!lease) return this.#depose('lease lost');
    const delay = this.#fenceDeadline(lease.safeUntil, lease.ttlMs) - Date.now();
    if (delay <= 0) return this.#selfFence();
    this.#fenceTimer = setTimeout(() => this.#armSelfFence(), delay);
    this.#fenceTimer.unref();
  }

  /**
   * A transaction guarded by this node's fencing token. Resolves with the result when the fence held;
   * rejects with NotMasterError (and steps down) when it did not.
   */
  async fencedTxn(request: TxnRequest, decidedUnder?: MasterTerm): Promise<TxnResult> {
    // A decision taken under one term must not be written under another, even a later term of this
    // same node: the facts it was based on (how this node became master) may no longer hold.
    const term = decidedUnder ?? this.#term;
    if (!term || this.#term !== term) throw new NotMasterError();
    const result = await this.store.txn({
      ...request,
      compare: [{ key: this.keys.master.key, target: 'mod', op: '=', value: term.token }, ...request.compare],
    });
    if (result.succeeded) return result;
    const masterKv = await this.store.get(this.keys.master.key);
    if (masterKv?.modRevision !== term.token) {
      if (this.#term === term) this.#depose('a fenced write found a newer master token');
      throw new NotMasterError('this node was deposed as master');
    }
    return result;
  }

  /**
   * Writes a hand-over intent naming `to`, under this node's lease, together with `ops` (the run's
   * own update) in the same fenced transaction. Resolves with the intent and its revision.
   */
  async writeIntent(
    to: number,
    actionUid: string,
    extra: { compare: Compare[]; ops: Op[] } = { compare: [], ops: [] },
  ): Promise<{ intent: TransferIntent; revision: number }> {
    const term = this.#term;
    const lease = this.membership.lease;
    if (!term || !lease) throw new NotMasterError();
    const intent: TransferIntent = {
      to,
      from: this.uid,
      from_token: term.token,
      epoch: term.epoch + 1,
      action_uid: actionUid,
      created_at: Date.now(),
    };
    const put = putRecord(this.keys.transfer, intent, lease.id);
    const pending: Compare = { key: this.keys.transfer.key, target: 'create', op: '=', value: 0 };
    // From the moment the intent may land, the target may take over: stop saying "master".
    this.#intentPending = true;
    let result: TxnResult;
    try {
      result = await this.fencedTxn({ compare: [pending, ...extra.compare], success: [put, ...extra.ops] });
      if (!result.succeeded && extra.ops.length > 0) {
        // The extra writes are the caller's bookkeeping; when their compare fails, the intent goes alone.
        result = await this.fencedTxn({ compare: [pending], success: [put] });
      }
    } catch (err) {
      if (this.#term === term) void this.#settleUnknownIntent(term, intent);
      throw err;
    }
    if (!result.succeeded) {
      if (this.#term === term) this.#resumeClaim();
      throw new Error('another hand-over intent is already pending');
    }
    return { intent, revision: result.revision };
  }

  /**
   * Withdraws an intent. Resolves true when withdrawn (this node stays master) and false when the
   * target had already taken over.
   */
  async withdrawIntent(intentRevision: number): Promise<boolean> {
    const term = this.#term;
    try {
      await this.fencedTxn({
        compare: [{ key: this.keys.transfer.key, target: 'mod', op: '=', value: intentRevision }],
        success: [{ type: 'delete', key: this.keys.transfer.key }],
      });
      // The claim resumes only now: the intent is certainly gone and the fence still held.
      if (this.#term === term) this.#resumeClaim();
      return true;
    } catch (err) {
      if (err instanceof NotMasterError) return false;
      throw err;
    }
  }

  #resumeClaim(): void {
    if (!this.#intentPending) return;
    this.#intentPending = false;
    this.#claimSince = Date.now();
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
        if (!kv || !ours || (await this.withdrawIntent(kv.modRevision))) {
          if (this.#term === term) this.#resumeClaim();
        }
      },
      () => this.#term === term && !this.#stopped,
    ).catch(() => undefined);
  }

  /** Gives up mastership at once (on shutdown), so the others elect without waiting for a TTL. */
  async resign(): Promise<void> {
    const term = this.#term;
    if (!term) return;
    try {
      await this.fencedTxn({ compare: [], success: [{ type: 'delete', key: this.keys.master.key }] });
    } catch (err) {
      this.log.warn({ err }, 'could not resign cleanly; the lease will expire instead');
    }
    this.#depose('resigned');
  }
}
