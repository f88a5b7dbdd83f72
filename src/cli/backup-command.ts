/** `bosun backup`: an online copy of the embedded SQLite store, taken while the nodes run. */
import { join, resolve } from 'node:path';

import { parseStoreUrl } from '../store/open-store.js';
import { backupSqliteStore } from '../store/sqlite/backup.js';

export interface BackupCommandOptions {
  dataDir: string;
  store?: string | undefined;
}

export async function runBackup(file: string, opts: BackupCommandOptions): Promise<void> {
  const url = opts.store ?? process.env.BOSUN_STORE ?? `sqlite:${join(resolve(opts.dataDir), 'bosun.db')}`;
  const location = parseStoreUrl(url);
  if (location.backend !== 'sqlite') {
    // etcd has its own consistent snapshot, taken from any member: the whole keyspace, every prefix.
    throw new Error(
      'the store is etcd: back it up with `etcdctl snapshot save <file>` against one member (see docs/deploy.md)',
    );
  }
  const result = await backupSqliteStore(location.path, resolve(file));
  process.stdout.write(
    `Backed up ${location.path} to ${result.path}: revision ${result.revision}, ${result.keys} keys, ${result.bytes} bytes\n`,
  );
}
