/**
 * The SQLite backend's tables and prepared statements (sqlite-store.ts tells how they close the gap
 * to etcd): `kv` holds the keys, `events` the change history watches replay from, `rev_times` when
 * each revision was written (for age-bounded compaction), `leases` the leases with their expiry.
 */
import type Database from 'better-sqlite3';

import { toKv } from '../key-value.js';
import type { KeyValue } from '../types.js';

export interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: number | null;
}

export interface EventRow extends KvRow {
  rev: number;
  type: number;
}

export const PUT = 0;
export const DELETE = 1;

export const SCHEMA = `
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

export function rowToKv(row: KvRow): KeyValue {
  return toKv(row.key, row.value, row.create_rev, row.mod_rev, row.version, row.lease);
}

export interface Statements {
  revision: Database.Statement<[], { v: number }>;
  compacted: Database.Statement<[], { v: number }>;
  setMeta: Database.Statement<[number, string]>;
  get: Database.Statement<[string], KvRow>;
  range: Database.Statement<[string, string], KvRow>;
  put: Database.Statement<[string, string, number, number, number, number | null]>;
  del: Database.Statement<[string]>;
  event: Database.Statement<[number, number, number, string, string, number, number, number, number | null]>;
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
}

/** Every statement the backend runs, prepared once per connection. */
export function prepareStatements(db: Database.Database): Statements {
  return {
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
}
