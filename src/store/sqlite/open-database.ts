/**
 * Opens (and on first use, creates) the shared SQLite file, retrying transient locks.
 *
 * Several node processes open a new file at the same moment when a cluster starts. Each then switches
 * it to WAL and creates the schema; both need a lock another process may hold, and SQLite can answer
 * SQLITE_BUSY at once instead of through the busy handler (changing the journal mode, or reading a
 * WAL index another connection is still building). A start-up must not fail on that: every step is
 * retried on a fresh connection with a jittered backoff, within a bounded time, and only a lock that
 * outlasts the bound (a process holding the file for good) is reported.
 */
import Database from 'better-sqlite3';

export interface OpenDatabaseOptions {
  /** The busy handler's wait for each statement, in ms. */
  readonly busyTimeoutMs: number;
  /** How long to keep retrying a locked open, in ms. (Default: 30000) */
  readonly openTimeoutMs?: number;
  /** Run once the connection is set up (the schema), inside the same retry. */
  readonly init: (db: Database.Database) => void;
}

export function isLockError(err: unknown): err is InstanceType<typeof Database.SqliteError> {
  return err instanceof Database.SqliteError && /BUSY|LOCKED/.test(err.code);
}

/** Blocks the thread: start-up is synchronous, and nothing else can run until the store is open. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function openDatabase(path: string, options: OpenDatabaseOptions): Database.Database {
  const deadline = Date.now() + (options.openTimeoutMs ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { timeout: options.busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      // FULL: a commit the API acknowledged survives power loss; costs ~0.3 ms per write here.
      db.pragma('synchronous = FULL');
      options.init(db);
      return db;
    } catch (err) {
      db?.close();
      if (!isLockError(err) || Date.now() >= deadline) throw err;
      sleepSync(Math.min(10 * 2 ** attempt, 500) * (0.5 + Math.random()));
    }
  }
}
