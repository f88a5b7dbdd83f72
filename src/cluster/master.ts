/**
 * Master election and fencing (docs/design.md, "Election and hand-over"); the hand-over protocol,
 * both halves, is hand-over.ts.
 *
 * - Election: when the view shows no master key, a joined node creates it in one transaction under
 *   its own lease (create-if-absent), taking the last epoch + 1.
 * - Fencing: the master key's mod revision is the fencing token. Every write the master makes as
 *   master carries `mod(master) == token`, so a deposed master can never write, even while it still
 *   believes it is master.
 * - Self-fencing: the master stops acting once its lease is no longer certainly alive on the server
 *   (`lease.safeUntil` minus a margin), before the server could have expired it and elected another.
 * - Hand-over: a node that sees a hand-over intent naming it lets hand-over.ts take the master key.
 */
import { EventEmitter } from 'node:events';

import type { Logger } from 'pino';

import { CoalescingTask } from '../lib/coalescing-task.js';
import { retryPolicy } from '../lib/retry.js';
import { casUpdate } from '../store/cas.js';
import { decodeKv, putRecord } from '../store/typed-key.js';
import { ConflictError, NotMasterError } from '../errors/domain.js';
import type { Compare, Store, TxnRequest, TxnResult } from '../store/types.js';
import { HandOver, type HandOverHost } from './hand-over.js';
import {
  epochRecord,
  masterRecord,
  transferIntent,
  type ClusterKeys,
  type EpochRecord,
  type ForcedTakeOver,
  type MasterRecord,
} from './keys.js';
import type { Membership } from './membership.js';
import type { MasterTerm } from './term.js';
import type { ClusterView } from './view.js';

export type { MasterTerm } from './term.js';

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
  /** Both halves of the hand-over; the engine gives mastership away through it. */
  readonly handOver: HandOver;

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly membership: Membership,
    private readonly log: Logger,
  ) {
    super();
    this.handOver = new HandOver(store, view, keys, this.#handOverHost(), log);
  }

  #handOverHost(): HandOverHost {
    return {
      uid: this.uid,
      term: () => this.#term,
      lease: () => this.membership.lease,
      stopped: () => this.#stopped,
      fencedTxn: (request, decidedUnder) => this.fencedTxn(request, decidedUnder),
      pauseClaim: () => (this.#intentPending = true),
      resumeClaim: () => {
        if (!this.#intentPending) return;
        this.#intentPending = false;
        this.#claimSince = Date.now();
      },
      begin: (term) => this.#begin(term),
    };
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
        const now = masterKv ? this.view.recordOf(masterKv, masterRecord) : undefined;
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
    const master = this.view.recordOf(masterKv, masterRecord);
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
      const intent = this.view.recordOf(transferKv, transferIntent);
      if (intent.to === this.uid && intent.from_token === masterKv.modRevision) {
        await this.handOver.take(lease.id, intent, transferKv.modRevision);
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
    const dead = this.view.recordOf(masterKv, masterRecord);
    const won = await this.#replaceDead(deadToken, dead, forced, evidence, lease.id);
    if (!won) return false;
    const { record, revision } = won;
    this.log.warn(
      { epoch: record.epoch, token: revision, dead: dead.node_uid, deadToken, signal: forced.signal },
      `node ${this.uid} replaced dead master ${dead.node_uid} before its lease ran out`,
    );
    this.#begin({
      token: revision,
      epoch: record.epoch,
      since: record.since,
      viaAction: undefined,
      previous: record.previous,
    });
    if (masterKv.lease !== undefined) {
      void this.store
        .revokeLease(masterKv.lease)
        .catch((err: unknown) => this.log.warn({ err }, 'could not revoke the dead master lease'));
    }
    return true;
  }

  /** The forced take-over's transaction: the next epoch, guarded by the dead master's token. */
  async #replaceDead(
    deadToken: number,
    dead: MasterRecord,
    forced: ForcedTakeOver,
    evidence: Compare[],
    leaseId: string,
  ): Promise<{ record: MasterRecord; revision: number } | undefined> {
    let revision = 0;
    const record = await casUpdate(
      this.store,
      this.keys.epoch,
      (stored) => {
        const previous = stored?.value;
        const epoch = (previous?.epoch ?? dead.epoch) + 1;
        const next: MasterRecord = {
          node_uid: this.uid,
          epoch,
          since: Date.now(),
          // The epoch record, as an election takes it: it names the run a hand-over came from.
          previous: previous ?? { epoch: dead.epoch, node_uid: dead.node_uid },
          forced,
        };
        // Only a moved epoch record is worth a second try; anything else means someone else acted.
        const onConflict = async () => {
          const [nowMaster, nowEpoch] = await Promise.all([
            this.store.get(this.keys.master.key),
            this.store.get(this.keys.epoch.key),
          ]);
          const moved = nowEpoch?.modRevision !== stored?.kv.modRevision;
          return nowMaster?.modRevision === deadToken && moved ? undefined : null;
        };
        return {
          compare: [{ key: this.keys.master.key, target: 'mod', op: '=', value: deadToken }, ...evidence],
          ops: [
            putRecord(this.keys.master, next, leaseId),
            putRecord(this.keys.epoch, { epoch, node_uid: this.uid }),
          ],
          result: next,
          onConflict,
        };
      },
      {
        what: 'The epoch record',
        policy: { ...retryPolicy, attempts: 2 },
        // The view's epoch record first (no round trip); the compare catches a stale one.
        firstBase: () => this.view.get(this.keys.epoch.key),
        onWritten: (r) => (revision = r),
      },
    ).catch((err: unknown) => {
      if (err instanceof ConflictError) return null;
      throw err;
    });
    return record ? { record, revision } : undefined;
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
