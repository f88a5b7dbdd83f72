/**
 * The embedded backend: one SQLite file (WAL mode) shared by every node process on one host.
 *
 * The semantic gap to etcd, and how it is closed:
 * - Single writer. Every write is a `BEGIN IMMEDIATE` transaction, so SQLite serialises writers across
 *   processes; compares and writes in one transaction are therefore atomic, as in an etcd txn.
 * - Revisions. `meta.revision` grows by one per changing transaction; every change is appended to
 *   `events`, which is the history a watch replays from.
 * - Leases. A row in `leases` with an absolute expiry on the host's clock (all processes share it).
 *   Expired leases are reaped, deleting their keys in a revision of their own, by whichever process
 *   writes or polls first; compares inside a write transaction run after that reap, so they never see
 *   a key whose lease has run out.
 * - Watch. Each process polls `meta.revision` (cheap: one indexed read) on a short timer, and wakes at
 *   once on its own writes and on file-system notifications for the WAL, then reads new events.
 *
 * Split as store/etcd/ is: schema.ts (tables, statements), compare.ts (compare evaluation),
 * sqlite-lease.ts (leases, behind the narrow SqliteLeaseHost), wal-poller.ts (learning of other
 * processes' writes), compaction.ts (bounded history) and watch-hub.ts (watch delivery). This file
 * keeps the transactions that tie them together.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import type Database from 'better-sqlite3';

import { CoalescingTask } from '../../lib/coalescing-task.js';
import { LeaseLostError, StoreClosedError, StoreUnavailableError } from '../errors.js';
import { prefixEnd } from '../prefix.js';
import type {
  KeyValue,
  Lease,
  Op,
  RangeResult,
  Store,
  StoreProfile,
  TxnRequest,
  TxnResult,
  WatchHandlers,
  Watcher,
} from '../types.js';
import { validateTxn } from '../validate.js';
import { compareMatches } from './compare.js';
import { compactHistory, type CompactionSettings } from './compaction.js';
import { isLockError, openDatabase } from './open-database.js';
import { DELETE, PUT, SCHEMA, prepareStatements, rowToKv, type Statements } from './schema.js';
import { SqliteLease, type SqliteLeaseHost } from './sqlite-lease.js';
import { WalPoller } from './wal-poller.js';
import { WatchHub } from './watch-hub.js';

export interface SqliteStoreOptions {
  /** Path of the database file; created with its folder when missing. */
  readonly path: string;
  /** How often to look for other processes' writes, in ms. (Default: 10) */
  readonly pollIntervalMs?: number;
  /** How many revisions of change history to keep for watches that fall behind. (Default: 20000) */
  readonly historyRevisions?: number;
  /**
   * How long, in ms, a revision's history is kept at most, however few writes follow it. Old values
   * (password hashes among them) must not stay in the file for ever on a quiet cluster. (Default:
   * 600000, ten minutes: far longer than any watch stays behind.)
   */
  readonly historyMaxAgeMs?: number;
  /** How long a write waits for another process's write lock before failing, in ms. (Default: 5000) */
  readonly busyTimeoutMs?: number;
  /** How long opening keeps retrying a locked file, in ms (open-database.ts). (Default: 30000) */
  readonly openTimeoutMs?: number;
}

export const sqliteProfile: StoreProfile = {
  name: 'sqlite',
  kind: 'embedded',
  minLeaseTtlMs: 100,
};

export class SqliteStore implements Store {
  readonly profile = sqliteProfile;
  readonly #db: Database.Database;
  readonly #stmts: Statements;
  readonly #compaction: CompactionSettings;
  #lastCompactionAt = Date.now();
  #writesSinceCompaction = 0;
  readonly #leases = new Map<string, SqliteLease>();
  /** What this store's leases may call on it; not part of its public surface. */
  readonly #leaseHost: SqliteLeaseHost = {
    renewLease: (id, ttlMs) => this.#renewLease(id, ttlMs),
    revokeLease: (id) => this.revokeLease(id),
    forgetLease: (id) => this.#leases.delete(id),
  };
  readonly #hub: WatchHub;
  readonly #poller: WalPoller;
  /** A poll soon after this process's own writes: many writes in one tick cost one poll. */
  readonly #pollSoon = new CoalescingTask(() => this.#poll(), { defer: true });
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    // The file holds secrets (password hashes, the JWT key): owner-only, whatever the umask.
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    this.#compaction = {
      historyRevisions: options.historyRevisions ?? 20_000,
      historyMaxAgeMs: options.historyMaxAgeMs ?? 600_000,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    };
    this.#db = openDatabase(options.path, {
      busyTimeoutMs: this.#compaction.busyTimeoutMs,
      openTimeoutMs: options.openTimeoutMs,
      init: (d) => {
        // Deleted rows (compacted history: old password hashes) are overwritten, not left in free pages.
        d.pragma('secure_delete = ON');
        d.transaction(() => d.exec(SCHEMA)).immediate();
      },
    });
    for (const file of [options.path, `${options.path}-wal`, `${options.path}-shm`]) {
      if (existsSync(file)) chmodSync(file, 0o600);
    }
    this.#stmts = prepareStatements(this.#db);
    this.#hub = new WatchHub(
      this.#stmts,
      () => this.#closed,
      () => this.#poll(),
    );
    this.#poller = new WalPoller(
      options.path,
      options.pollIntervalMs ?? 10,
      () => this.#poll(),
      () => this.#hub.dispatched,
    );
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.#assertOpen();
    const row = this.#stmts.get.get(key);
    return row ? rowToKv(row) : undefined;
  }

  async range(prefix: string): Promise<RangeResult> {
    this.#assertOpen();
    return this.#db.transaction(() => ({
      kvs: this.#stmts.range.all(prefix, prefixEnd(prefix)).map(rowToKv),
      revision: this.#stmts.revision.get()!.v,
    }))();
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.#assertOpen();
    validateTxn(request);
    const result = this.#write(() => {
      const ok = request.compare.every((c) => compareMatches(this.#stmts.get.get(c.key), c));
      const ops = ok ? request.success : (request.failure ?? []);
      if (ops.length > 0) this.#apply(ops);
      return ok;
    });
    return { succeeded: result.value, revision: result.revision };
  }

  async grantLease(ttlMs: number): Promise<Lease> {
    this.#assertOpen();
    const ttl = Math.max(ttlMs, this.profile.minLeaseTtlMs);
    const grantedAt = Date.now();
    const id = String(
      this.#write(() => this.#stmts.grantLease.run(ttl, grantedAt + ttl)).value.lastInsertRowid,
    );
    const lease = new SqliteLease(this.#leaseHost, id, ttl, grantedAt);
    this.#leases.set(id, lease);
    return lease;
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.#assertOpen();
    return this.#hub.watch(prefix, fromRevision, handlers);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const lease of this.#leases.values()) lease.release();
    this.#closed = true;
    this.#poller.close();
    this.#hub.clear();
    this.#db.close();
  }

  async revokeLease(id: string): Promise<void> {
    this.#assertOpen();
    const local = this.#leases.get(id);
    this.#leases.delete(id);
    // One transaction deletes the lease and its keys, whichever process holds it; that process's next
    // keep-alive finds no row and reports the lease lost.
    this.#write(() => this.#reapLease(Number(id)));
    this.#schedulePoll();
    // Revoked by id from this very store instance (not through the lease): tell its holder now.
    if (local && !local.lost) queueMicrotask(() => local.expired());
  }

  // ---- internals ----

  /** `alive` is false when the lease no longer exists (or has expired). */
  #renewLease(id: string, ttlMs: number): { alive: boolean; revision: number } {
    const now = Date.now();
    const { value, revision } = this.#write(
      () => this.#stmts.renewLease.run(now + ttlMs, Number(id), now).changes,
    );
    return { alive: value === 1, revision };
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError('store is closed');
  }

  /** Runs `fn` in one IMMEDIATE transaction, after reaping expired leases. */
  #write<T>(fn: () => T): { value: T; revision: number } {
    this.#assertOpen();
    let out: { value: T; revision: number };
    try {
      out = this.#db
        .transaction(() => {
          this.#reapExpired(Date.now());
          const value = fn();
          return { value, revision: this.#stmts.revision.get()!.v };
        })
        .immediate();
    } catch (err) {
      if (isLockError(err)) {
        throw new StoreUnavailableError(`the database is locked by another process: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
    this.#afterWrite(out.revision);
    return out;
  }

  /** Housekeeping after a committed write: it must not turn the write's success into an error. */
  #afterWrite(revision: number): void {
    if (++this.#writesSinceCompaction >= 1000) {
      this.#writesSinceCompaction = 0;
      try {
        this.#compact(revision);
      } catch (err) {
        if (!isLockError(err)) throw err;
        this.#writesSinceCompaction = 1000 - 50;
      }
    }
    this.#schedulePoll();
  }

  /** Applies ops at a new revision. Returns whether a revision was taken. */
  #apply(ops: readonly Op[]): boolean {
    const rev = this.#stmts.revision.get()!.v + 1;
    let seq = 0;
    for (const op of ops) {
      const existing = this.#stmts.get.get(op.key);
      if (op.type === 'put') {
        let lease: number | null = null;
        if (op.lease !== undefined) {
          lease = Number(op.lease);
          if (!this.#stmts.leaseExists.get(lease)) throw new LeaseLostError(`lease ${op.lease} not found`);
        }
        const createRev = existing?.create_rev ?? rev;
        const version = (existing?.version ?? 0) + 1;
        this.#stmts.put.run(op.key, op.value, createRev, rev, version, lease);
        this.#stmts.event.run(rev, seq++, PUT, op.key, op.value, createRev, rev, version, lease);
      } else if (existing) {
        this.#stmts.del.run(op.key);
        this.#stmts.event.run(rev, seq++, DELETE, op.key, '', existing.create_rev, rev, 0, null);
      }
    }
    if (seq === 0) return false;
    this.#stmts.setMeta.run(rev, 'revision');
    this.#stmts.revTime.run(rev, Date.now());
    return true;
  }

  #reapExpired(now: number): void {
    for (const { id } of this.#stmts.expiredLeases.all(now)) {
      this.#reapLease(id);
      const lease = this.#leases.get(String(id));
      // Listeners run after the commit: they may well write to the store themselves.
      if (lease) queueMicrotask(() => lease.expired());
    }
  }

  #reapLease(id: number): boolean {
    const keys = this.#stmts.keysOfLease.all(id);
    this.#stmts.deleteLease.run(id);
    if (keys.length === 0) return false;
    return this.#apply(keys.map((k) => ({ type: 'delete', key: k.key })));
  }

  #compact(revision: number): void {
    this.#lastCompactionAt = Date.now();
    compactHistory(this.#db, this.#stmts, revision, this.#compaction);
  }

  #schedulePoll(): void {
    if (!this.#closed) this.#pollSoon.request();
  }

  #poll(): void {
    if (this.#closed) return;
    try {
      const now = Date.now();
      if (this.#stmts.anyExpired.get(now)) this.#write(() => undefined);
      const revision = this.#stmts.revision.get()!.v;
      // Age-bounded history needs a clock, not only writes: a quiet cluster compacts too.
      if (now - this.#lastCompactionAt >= Math.min(this.#compaction.historyMaxAgeMs / 2, 60_000)) {
        this.#compact(revision);
      }
      this.#hub.advance(revision);
    } catch (err) {
      if (this.#closed) return;
      // A locked or busy database is transient here (even a read can meet SQLITE_BUSY while another
      // connection recovers the WAL); the next tick tries again. Throwing from a timer would crash.
      if (!(err instanceof StoreUnavailableError) && !isLockError(err)) throw err;
    }
  }
}
