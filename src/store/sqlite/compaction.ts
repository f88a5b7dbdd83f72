import type Database from 'better-sqlite3';

import type { Statements } from './schema.js';

export interface CompactionSettings {
  /** How many revisions of change history to keep. */
  readonly historyRevisions: number;
  /** How long, in ms, a revision's history is kept at most. */
  readonly historyMaxAgeMs: number;
  /** The connection's usual busy timeout, restored after the checkpoint. */
  readonly busyTimeoutMs: number;
}

/**
 * Drops history older than the last `historyRevisions` revisions or than `historyMaxAgeMs`,
 * whichever keeps less. secure_delete zeroes the freed rows; the WAL checkpoint then truncates the
 * log, which still holds the pages as they were before (best effort: a reader can hold it open).
 */
export function compactHistory(
  db: Database.Database,
  stmts: Statements,
  revision: number,
  settings: CompactionSettings,
): void {
  const byAge = stmts.lastRevBefore.get(Date.now() - settings.historyMaxAgeMs)?.rev ?? 0;
  // The current revision stays: watchers resume after it, and it holds no superseded value.
  const upTo = Math.min(Math.max(revision - settings.historyRevisions, byAge), revision - 1);
  if (upTo <= stmts.compacted.get()!.v) return;
  db.transaction(() => {
    stmts.compact.run(upTo);
    stmts.compactTimes.run(upTo);
    // Never lower it: a process configured with a longer history must not hide another's compaction.
    stmts.raiseCompacted.run(upTo);
  }).immediate();
  // Never wait for other processes' readers here (this runs on the event loop): if one holds the
  // log, the next compaction tries again.
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
  }
}
