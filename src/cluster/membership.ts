/**
 * Membership: a node registers under its own lease and keeps it alive. The lease is also the one the
 * master key is bound to, so a node that loses its lease loses its mastership with it.
 *
 * When the lease is lost (the store was unreachable for longer than the TTL), the node rejoins with a
 * new lease; until then it is not a member and must not act for the cluster.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';

import type { Logger } from 'pino';

import { TxnOutcomeUnknownError } from '../store/errors.js';
import { putRecord, readRecord } from '../store/typed-key.js';
import type { Lease, Store } from '../store/types.js';
import { nodeRecord, type ClusterKeys, type MemberRecord, type NodeRecord } from './keys.js';

export interface MembershipEvents {
  /** `revision` is the store revision of the registration: a view that has it has caught up. */
  joined: [lease: Lease, revision: number];
  /** The lease is gone: everything bound to it (liveness, mastership, intents) is gone too. */
  lost: [err: Error];
}

export class Membership extends EventEmitter<MembershipEvents> {
  #lease: Lease | undefined;
  #stopped = false;
  #joining: Promise<void> | undefined;
  /** The create revision of the current registration (0 when not joined). */
  #registeredAt = 0;
  /** Leases this process held and gave up or lost: a registration under one of them is ours. */
  readonly #formerLeases = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly keys: ClusterKeys,
    private readonly record: NodeRecord,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    super();
  }

  get uid(): number {
    return this.record.uid;
  }

  /** The current lease, while joined. */
  get lease(): Lease | undefined {
    return this.#lease && !this.#lease.lost ? this.#lease : undefined;
  }

  /**
   * Joins, retrying until it succeeds. A registration of this uid that is provably this node's own
   * stale one is revoked at once, so the node rejoins without waiting out a TTL:
   * - one under a lease this process held before (lost, or abandoned when it fenced itself);
   * - one written by a process on this host that no longer exists (a killed previous incarnation).
   * Any other holder frees the uid when its lease runs out; another live process really holding the
   * uid is logged loudly.
   */
  join(): Promise<void> {
    this.#joining ??= this.#join().finally(() => (this.#joining = undefined));
    return this.#joining;
  }

  async #join(): Promise<void> {
    let attempt = 0;
    for (;;) {
      if (this.#stopped) return;
      try {
        if (await this.#tryJoin()) return;
        const holder = await this.store.get(this.keys.node(this.uid).key);
        if (holder?.lease && this.#isStaleOwn(holder.lease, holder.value)) {
          this.log.info(
            { lease: holder.lease },
            `revoking this node's own stale registration; rejoining at once`,
          );
          await this.store.revokeLease(holder.lease);
          continue;
        }
        if (attempt % 10 === 0) {
          this.log.warn(
            { holder: holder?.value },
            `node uid ${this.uid} is still registered by another process; waiting for its lease to expire`,
          );
        }
      } catch (err) {
        this.log.warn({ err }, 'could not join the cluster; retrying');
      }
      attempt++;
      await new Promise((r) => setTimeout(r, Math.min(this.ttlMs / 4, 500)));
    }
  }

  #isStaleOwn(leaseId: string, value: string): boolean {
    if (this.#formerLeases.has(leaseId)) return true;
    let record: NodeRecord;
    try {
      record = nodeRecord.decode(this.keys.node(this.uid).key, value);
    } catch {
      return false;
    }
    if (record.hostname !== hostname() || typeof record.pid !== 'number') return false;
    // This very process, under a lease it no longer holds.
    if (record.pid === process.pid) return true;
    try {
      // Signal 0 checks existence only. EPERM means it exists (another user's): not ours to judge.
      process.kill(record.pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  /**
   * Writes this node's registration again, unchanged, under its current lease: a write whose
   * revision comes back through the watch after every change before it (cluster/freshness.ts).
   * Resolves undefined when not registered under the current lease.
   */
  async touch(): Promise<number | undefined> {
    const lease = this.lease;
    const created = this.#registeredAt;
    if (!lease || created === 0) return undefined;
    const key = this.keys.node(this.uid);
    const result = await this.store.txn({
      compare: [{ key: key.key, target: 'create', op: '=', value: created }],
      success: [putRecord(key, this.record, lease.id)],
    });
    return result.succeeded ? result.revision : undefined;
  }

  /**
   * Gives up the current lease at once (the master role fenced itself): stops renewing it, so it
   * lapses even when only this node's replies are lost, revokes it in the background (that request
   * may land when its answer cannot return), and rejoins under a new lease.
   */
  abandon(reason: string): void {
    const lease = this.#lease;
    if (!lease) return;
    this.#lease = undefined;
    this.#formerLeases.add(lease.id);
    this.log.warn({ lease: lease.id }, `giving up membership lease: ${reason}; rejoining`);
    void lease.abandon().then(() => this.log.info({ lease: lease.id }, 'gave-up lease revoked'));
    this.emit('lost', new Error(reason));
    if (!this.#stopped) void this.join();
  }

  async #tryJoin(): Promise<boolean> {
    const lease = await this.store.grantLease(this.ttlMs);
    const member: MemberRecord = {
      uid: this.record.uid,
      addr: this.record.addr,
      http_port: this.record.http_port,
      https_port: this.record.https_port,
      software_version: this.record.software_version,
      hostname: this.record.hostname,
      joined_at: Date.now(),
    };
    const previous = (await readRecord(this.store, this.keys.member(this.uid)))?.value;
    const request = {
      compare: [{ key: this.keys.node(this.uid).key, target: 'create', op: '=', value: 0 }],
      success: [
        putRecord(this.keys.node(this.uid), this.record, lease.id),
        putRecord(
          this.keys.member(this.uid),
          previous ? { ...member, joined_at: previous.joined_at } : member,
        ),
      ],
    } as const;
    let succeeded: boolean;
    let revision = 0;
    try {
      const result = await this.store.txn(request);
      succeeded = result.succeeded;
      revision = result.revision;
    } catch (err) {
      // "Outcome unknown": the registration may have landed under this very lease.
      const now =
        err instanceof TxnOutcomeUnknownError
          ? await this.store.get(this.keys.node(this.uid).key).catch(() => undefined)
          : undefined;
      succeeded = now?.lease === lease.id;
      revision = now?.modRevision ?? 0;
      if (!succeeded) {
        await lease.revoke().catch(() => undefined);
        throw err;
      }
    }
    if (!succeeded) {
      await lease.revoke().catch(() => undefined);
      return false;
    }
    this.#lease = lease;
    this.#registeredAt = revision;
    lease.on('lost', (err) => {
      if (this.#lease !== lease) return;
      this.#lease = undefined;
      this.#formerLeases.add(lease.id);
      this.log.error({ err }, 'membership lease lost; rejoining');
      this.emit('lost', err);
      if (!this.#stopped) void this.join();
    });
    this.log.info({ lease: lease.id, ttlMs: this.ttlMs }, `node ${this.uid} joined the cluster`);
    this.emit('joined', lease, revision);
    return true;
  }

  /** Leaves at once: revoking the lease deletes the liveness record and any mastership now. */
  async leave(): Promise<void> {
    this.#stopped = true;
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease) await lease.revoke().catch((err: unknown) => this.log.warn({ err }, 'could not revoke lease'));
  }
}
