/**
 * An online copy of the embedded store, with SQLite's backup API (better-sqlite3's `backup()`): it
 * copies the database page by page while the nodes keep reading and writing, and restarts a step
 * whenever another connection writes, so the copy is one consistent revision of the store. A plain
 * `cp` of the file is not safe while nodes run: the WAL may hold committed transactions the main file
 * does not, and a copy taken mid-write can be torn.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';

import Database from 'better-sqlite3';

export interface SqliteBackupResult {
  /** The backup file, complete and checked. */
  readonly path: string;
  readonly bytes: number;
  /** The store revision the copy holds. */
  readonly revision: number;
  /** How many keys the copy holds. */
  readonly keys: number;
}

/** Copies the store at `source` to the new file `destination`; never overwrites a file. */
export async function backupSqliteStore(source: string, destination: string): Promise<SqliteBackupResult> {
  if (!existsSync(source)) throw new Error(`there is no store at ${source}`);
  if (existsSync(destination)) throw new Error(`${destination} already exists: choose a new file name`);
  // The copy is made under a temporary name and renamed only once it is complete and checked, so a
  // file with the chosen name is always a whole backup.
  const partial = `${destination}.partial-${process.pid}`;
  try {
    const db = new Database(source, { fileMustExist: true, timeout: 5000 });
    try {
      // Checks it is a Bosun store before copying anything (and fails fast on a non-SQLite file).
      revisionOf(db, source);
      await db.backup(partial);
    } finally {
      db.close();
    }
    const copy = new Database(partial, { fileMustExist: true });
    let revision: number;
    let keys: number;
    try {
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy failed SQLite's integrity check: ${String(check)}`);
      revision = revisionOf(copy, source);
      keys = copy.prepare('SELECT count(*) FROM kv').pluck().get() as number;
      // One self-contained file: no -wal or -shm beside it to keep track of.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    renameSync(partial, destination);
    return { path: destination, bytes: statSync(destination).size, revision, keys };
  } catch (err) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${partial}${suffix}`, { force: true });
    throw err;
  }
}

function revisionOf(db: Database.Database, source: string): number {
  let row: unknown;
  try {
    row = db.prepare(`SELECT v FROM meta WHERE k = 'revision'`).pluck().get();
  } catch (err) {
    throw new Error(`${source} is not a Bosun store (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof row !== 'number') throw new Error(`${source} is not a Bosun store (no revision)`);
  return row;
}
