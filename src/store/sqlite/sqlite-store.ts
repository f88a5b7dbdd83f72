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
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, basename } from 'node:path';

import type Database from 'better-sqlite3';

import { CoalescingTask } from '../../lib/coalescing-task.js';
import { CompactedError, LeaseLostError, StoreClosedError, StoreUnavailableError } from '../errors.js';
import { BaseLease, type KeepAliveAnswer } from '../lease-base.js';
import { isLockError, openDatabase } from './open-database.js';
import { prefixEnd } from '../prefix.js';
import { validateTxn } from '../validate.js';
import type {
  Compare,
  KeyValue,
  Lease,
  Op,
  RangeResult,
  Store,
  StoreProfile,
  TxnRequest,
  TxnResult,
  WatchBatch,
  WatchEvent,
  WatchHandlers,
  Watcher,
} from '../types.js';

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

interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: number | null;
}

interface EventRow extends KvRow {
  rev: number;
  type: number;
}

const PUT = 0;
const DELETE = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (k, v) VALUES ('revision', 1), ('compacted', 0);
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,
  version INTEGER NOT NULL, lease INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_lease ON kv (lease) WHERE lease IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
  rev INTEGER NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER,
  PRIMARY KEY (rev, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rev_times (rev INTEGER PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY AUTOINCREMENT, ttl_ms INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS leases_by_expiry ON leases (expires_at);
`;

export const sqliteProfile: StoreProfile = {
  name: 'sqlite',
  kind: 'embedded',
  multiProcess: true,
  nativeWatch: false,
  minLeaseTtlMs: 100,
};

function toKv(row: KvRow): KeyValue {
  return {
    key: row.key,
    value: row.value,
    createRevision: row.create_rev,
    modRevision: row.mod_rev,
    version: row.version,
    lease: row.lease === null ? undefined : String(row.lease),
  };
}

function compareMatches(row: KvRow | undefined, c: Compare): boolean {
  let actual: number | string | undefined;
  switch (c.target) {
    case 'value':
      if (!row) return false;
      actual = row.value;
      break;
    case 'mod':
      actual = row?.mod_rev ?? 0;
      break;
    case 'create':
      actual = row?.create_rev ?? 0;
      break;
    case 'version':
      actual = row?.version ?? 0;
      break;
    default: {
      const never: never = c.target;
      throw new Error(`unknown compare target ${String(never)}`);
    }
  }
  const expected = c.value;
  switch (c.op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '>':
      return actual > expected;
    default: {
      const never: never = c.op;
      throw new Error(`unknown compare op ${String(never)}`);
    }
  }
}

interface WatchEntry {
  readonly prefix: string;
  readonly end: string;
  readonly handlers: WatchHandlers;
  /** The next revision this watcher expects. */
  next: number;
  closed: boolean;
}

export class SqliteStore implements Store {
  readonly profile = sqliteProfile;
  readonly #db: Database.Database;
  readonly #pollIntervalMs: number;
  readonly #historyRevisions: number;
  readonly #historyMaxAgeMs: number;
  readonly #busyTimeoutMs: number;
  #lastCompactionAt = Date.now();
  readonly #watchers = new Set<WatchEntry>();
  readonly #leases = new Map<string, SqliteLease>();
  #closed = false;
  #pollTimer: NodeJS.Timeout | undefined;
  /** A poll soon after this process's own writes: many writes in one tick cost one poll. */
  readonly #pollSoon = new CoalescingTask(() => this.#poll(), { defer: true });
  #chasing = false;
  #fsWatcher: FSWatcher | undefined;
  /** The highest revision whose events were dispatched to live watchers. */
  #dispatched = 0;
  #writesSinceCompaction = 0;

  readonly #stmts: {
    revision: Database.Statement<[], { v: number }>;
    compacted: Database.Statement<[], { v: number }>;
    setMeta: Database.Statement<[number, string]>;
    get: Database.Statement<[string], KvRow>;
    range: Database.Statement<[string, string], KvRow>;
    put: Database.Statement<[string, string, number, number, number, number | null]>;
    del: Database.Statement<[string]>;
    event: Database.Statement<
      [number, number, number, string, string, number, number, number, number | null]
    >;
    eventsSince: Database.Statement<[number], EventRow>;
    eventsBetween: Database.Statement<[number, number], EventRow>;
    expiredLeases: Database.Statement<[number], { id: number }>;
    anyExpired: Database.Statement<[number], { id: number }>;
    keysOfLease: Database.Statement<[number], KvRow>;
    leaseExists: Database.Statement<[number], { id: number }>;
    deleteLease: Database.Statement<[number]>;
    grantLease: Database.Statement<[number, number]>;
    renewLease: Database.Statement<[number, number, number]>;
    compact: Database.Statement<[number]>;
    compactTimes: Database.Statement<[number]>;
    revTime: Database.Statement<[number, number]>;
    lastRevBefore: Database.Statement<[number], { rev: number | null }>;
    raiseCompacted: Database.Statement<[number]>;
  };

  constructor(options: SqliteStoreOptions) {
    // The file holds secrets (password hashes, the JWT key): owner-only, whatever the umask.
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    this.#pollIntervalMs = options.pollIntervalMs ?? 10;
    this.#historyRevisions = options.historyRevisions ?? 20_000;
    this.#historyMaxAgeMs = options.historyMaxAgeMs ?? 600_000;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const db = openDatabase(options.path, {
      busyTimeoutMs: this.#busyTimeoutMs,
      openTimeoutMs: options.openTimeoutMs,
      init: (d) => {
        // Deleted rows (compacted history: old password hashes) are overwritten, not left in free pages.
        d.pragma('secure_delete = ON');
        d.transaction(() => d.exec(SCHEMA)).immediate();
      },
    });
    this.#db = db;
    for (const file of [options.path, `${options.path}-wal`, `${options.path}-shm`]) {
      if (existsSync(file)) chmodSync(file, 0o600);
    }
    this.#stmts = {
      revision: db.prepare(`SELECT v FROM meta WHERE k = 'revision'`),
      compacted: db.prepare(`SELECT v FROM meta WHERE k = 'compacted'`),
      setMeta: db.prepare(`UPDATE meta SET v = ? WHERE k = ?`),
      get: db.prepare(`SELECT * FROM kv WHERE key = ?`),
      range: db.prepare(`SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key`),
      put: db.prepare(
        `INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev,
         version = excluded.version, lease = excluded.lease`,
      ),
      del: db.prepare(`DELETE FROM kv WHERE key = ?`),
      event: db.prepare(
        `INSERT INTO events (rev, seq, type, key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      eventsSince: db.prepare(`SELECT * FROM events WHERE rev > ? ORDER BY rev, seq`),
      eventsBetween: db.prepare(`SELECT * FROM events WHERE rev >= ? AND rev <= ? ORDER BY rev, seq`),
      expiredLeases: db.prepare(`SELECT id FROM leases WHERE expires_at <= ?`),
      anyExpired: db.prepare(`SELECT id FROM leases WHERE expires_at <= ? LIMIT 1`),
      keysOfLease: db.prepare(`SELECT * FROM kv WHERE lease = ?`),
      leaseExists: db.prepare(`SELECT id FROM leases WHERE id = ?`),
      deleteLease: db.prepare(`DELETE FROM leases WHERE id = ?`),
      grantLease: db.prepare(`INSERT INTO leases (ttl_ms, expires_at) VALUES (?, ?)`),
      renewLease: db.prepare(`UPDATE leases SET expires_at = ? WHERE id = ? AND expires_at > ?`),
      compact: db.prepare(`DELETE FROM events WHERE rev <= ?`),
      compactTimes: db.prepare(`DELETE FROM rev_times WHERE rev <= ?`),
      revTime: db.prepare(`INSERT OR REPLACE INTO rev_times (rev, at) VALUES (?, ?)`),
      lastRevBefore: db.prepare(`SELECT MAX(rev) AS rev FROM rev_times WHERE at <= ?`),
      raiseCompacted: db.prepare(`UPDATE meta SET v = MAX(v, ?) WHERE k = 'compacted'`),
    };
    this.#dispatched = this.#stmts.revision.get()!.v;
    this.#startPolling(options.path);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.#assertOpen();
    const row = this.#stmts.get.get(key);
    return row ? toKv(row) : undefined;
  }

  async range(prefix: string): Promise<RangeResult> {
    this.#assertOpen();
    return this.#db.transaction(() => ({
      kvs: this.#stmts.range.all(prefix, prefixEnd(prefix)).map(toKv),
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
    const lease = new SqliteLease(this, id, ttl, grantedAt);
    this.#leases.set(id, lease);
    return lease;
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.#assertOpen();
    const entry: WatchEntry = {
      prefix,
      end: prefixEnd(prefix),
      handlers,
      next: Math.max(1, fromRevision),
      closed: false,
    };
    // Deliver asynchronously, so the caller holds the Watcher before the first event arrives.
    setImmediate(() => {
      if (entry.closed || this.#closed) return;
      const compacted = this.#stmts.compacted.get()!.v;
      if (entry.next <= compacted) {
        entry.closed = true;
        handlers.onError(
          new CompactedError(`revision ${entry.next} is compacted (history starts after ${compacted})`),
        );
        return;
      }
      if (entry.next <= this.#dispatched) {
        this.#deliver([entry], this.#stmts.eventsBetween.all(entry.next, this.#dispatched));
      }
      entry.next = Math.max(entry.next, this.#dispatched + 1);
      if (!entry.closed) this.#watchers.add(entry);
      this.#progress([entry]);
    });
    return {
      close: async () => {
        entry.closed = true;
        this.#watchers.delete(entry);
      },
      requestProgress: () => {
        setImmediate(() => {
          if (entry.closed || this.#closed) return;
          this.#poll();
          this.#progress([entry]);
        });
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const lease of this.#leases.values()) lease.release();
    this.#closed = true;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#fsWatcher?.close();
    this.#watchers.clear();
    this.#db.close();
  }

  // ---- also used by SqliteLease ----

  /** `alive` is false when the lease no longer exists (or has expired). */
  renewLease(id: string, ttlMs: number): { alive: boolean; revision: number } {
    const now = Date.now();
    const { value, revision } = this.#write(
      () => this.#stmts.renewLease.run(now + ttlMs, Number(id), now).changes,
    );
    return { alive: value === 1, revision };
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

  forgetLease(id: string): void {
    this.#leases.delete(id);
  }

  // ---- internals ----

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
    if (++this.#writesSinceCompaction >= 1000) {
      this.#writesSinceCompaction = 0;
      // The write above is committed: housekeeping must not turn its success into an error.
      try {
        this.#compact(out.revision);
      } catch (err) {
        if (!isLockError(err)) throw err;
        this.#writesSinceCompaction = 1000 - 50;
      }
    }
    this.#schedulePoll();
    return out;
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

  /**
   * Drops history older than the last `historyRevisions` revisions or than `historyMaxAgeMs`,
   * whichever keeps less. secure_delete zeroes the freed rows; the WAL checkpoint then truncates the
   * log, which still holds the pages as they were before (best effort: a reader can hold it open).
   */
  #compact(revision: number): void {
    this.#lastCompactionAt = Date.now();
    const byAge = this.#stmts.lastRevBefore.get(Date.now() - this.#historyMaxAgeMs)?.rev ?? 0;
    // The current revision stays: watchers resume after it, and it holds no superseded value.
    const upTo = Math.min(Math.max(revision - this.#historyRevisions, byAge), revision - 1);
    if (upTo <= this.#stmts.compacted.get()!.v) return;
    this.#db
      .transaction(() => {
        this.#stmts.compact.run(upTo);
        this.#stmts.compactTimes.run(upTo);
        // Never lower it: a process configured with a longer history must not hide another's compaction.
        this.#stmts.raiseCompacted.run(upTo);
      })
      .immediate();
    // Never wait for other processes' readers here (this runs on the event loop): if one holds the
    // log, the next compaction tries again.
    this.#db.pragma('busy_timeout = 0');
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.#db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
    }
  }

  #startPolling(path: string): void {
    const loop = (): void => {
      this.#pollTimer = setTimeout(() => {
        this.#poll();
        if (!this.#closed) loop();
      }, this.#pollIntervalMs);
      this.#pollTimer.unref();
    };
    loop();
    try {
      // A wake-up when another process commits (its WAL file changes); the timer remains the backstop.
      const walName = `${basename(path)}-wal`;
      this.#fsWatcher = fsWatch(dirname(path), (_type, file) => {
        if (file === walName) this.#chase();
      });
      this.#fsWatcher.unref();
      this.#fsWatcher.on('error', () => this.#fsWatcher?.close());
    } catch {
      // Some file systems cannot be watched; polling alone still works.
    }
  }

  /**
   * The WAL file changes while the writer is still committing: its frames land before the shared
   * index says they are committed, and index updates (in mmapped memory) raise no file event. So a
   * poll right at the event often sees nothing new; look again a few times, a millisecond apart,
   * until the commit shows. Without this, other processes' writes wait for the poll timer.
   */
  #chase(): void {
    if (this.#chasing || this.#closed) return;
    this.#chasing = true;
    const seen = this.#dispatched;
    let tries = 0;
    const look = (): void => {
      this.#poll();
      if (this.#dispatched > seen || ++tries >= 12 || this.#closed) {
        this.#chasing = false;
        return;
      }
      // A commit usually shows within tens of microseconds: look again at once a few times first.
      if (tries < 6) setImmediate(look);
      else setTimeout(look, 1).unref();
    };
    setImmediate(look);
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
      if (now - this.#lastCompactionAt >= Math.min(this.#historyMaxAgeMs / 2, 60_000)) {
        this.#compact(revision);
      }
      if (revision <= this.#dispatched) return;
      const rows = this.#stmts.eventsSince.all(this.#dispatched);
      const compacted = this.#stmts.compacted.get()!.v;
      if (compacted > this.#dispatched) {
        const err = new CompactedError(`this process fell behind compacted history (${compacted})`);
        for (const w of this.#watchers) {
          w.closed = true;
          w.handlers.onError(err);
        }
        this.#watchers.clear();
      }
      this.#dispatched = revision;
      this.#deliver([...this.#watchers], rows);
      this.#progress([...this.#watchers]);
    } catch (err) {
      if (this.#closed) return;
      // A locked or busy database is transient here (even a read can meet SQLITE_BUSY while another
      // connection recovers the WAL); the next tick tries again. Throwing from a timer would crash.
      if (!(err instanceof StoreUnavailableError) && !isLockError(err)) throw err;
    }
  }

  /** Tells watchers that every change up to the dispatched revision has been delivered. */
  #progress(watchers: WatchEntry[]): void {
    for (const w of watchers) if (!w.closed) w.handlers.onProgress?.(this.#dispatched);
  }

  #deliver(watchers: WatchEntry[], rows: EventRow[]): void {
    if (rows.length === 0 || watchers.length === 0) return;
    const batches: { revision: number; rows: EventRow[] }[] = [];
    for (const row of rows) {
      const last = batches.at(-1);
      if (last && last.revision === row.rev) last.rows.push(row);
      else batches.push({ revision: row.rev, rows: [row] });
    }
    for (const w of watchers) {
      for (const b of batches) {
        if (w.closed) break;
        if (b.revision < w.next) continue;
        const events: WatchEvent[] = [];
        for (const row of b.rows) {
          if (row.key >= w.prefix && row.key < w.end) {
            events.push({ type: row.type === PUT ? 'put' : 'delete', kv: toKv(row) });
          }
        }
        w.next = b.revision + 1;
        if (events.length > 0) {
          const batch: WatchBatch = { revision: b.revision, events };
          try {
            w.handlers.onBatch(batch);
          } catch (err) {
            w.closed = true;
            this.#watchers.delete(w);
            w.handlers.onError(err instanceof Error ? err : new Error(String(err)));
          }
        }
      }
    }
  }
}

class SqliteLease extends BaseLease {
  readonly #store: SqliteStore;

  constructor(store: SqliteStore, id: string, ttlMs: number, grantedAt: number) {
    super(id, ttlMs, grantedAt);
    this.#store = store;
    this.startKeepAlive();
  }

  /** Called when a reap (by any process's write) removed this lease. */
  expired(): void {
    this.#store.forgetLease(this.id);
    this.markLost(new LeaseLostError(`lease ${this.id} expired`));
  }

  protected async sendKeepAlive(): Promise<KeepAliveAnswer> {
    const { alive, revision } = this.#store.renewLease(this.id, this.ttlMs);
    if (!alive) this.#store.forgetLease(this.id);
    return { alive, revision };
  }

  protected async sendRevoke(): Promise<void> {
    // Forgotten first: a revoke by its own holder is not a loss to report.
    this.#store.forgetLease(this.id);
    await this.#store.revokeLease(this.id);
  }
}
