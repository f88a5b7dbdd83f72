/**
 * `bosun backup` and the SQLite online backup behind it: a copy taken while another connection keeps
 * writing holds exactly one revision of the store, is one self-contained file, and a refused or
 * failed backup leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import Database from 'better-sqlite3';

import { backupSqliteStore } from '../../src/store/sqlite/backup.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/bosun.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bosun-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function put(store: SqliteStore, key: string, value: string): Promise<void> {
  await store.txn({ compare: [], success: [{ type: 'put', key, value }], failure: [] });
}

describe('sqlite online backup', () => {
  it('copies one consistent revision while another connection keeps writing', async () => {
    const source = join(dir, 'live.db');
    const store = new SqliteStore({ path: source });
    let written = 0;
    for (; written < 300; written++) await put(store, `/k/${written}`, String(written));
    // One key per transaction, so revision r holds exactly the keys /k/0 .. /k/(r-2).
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await put(store, `/k/${written}`, String(written));
        written++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      const result = await backupSqliteStore(source, join(dir, 'copy.db'));
      writing = false;
      await writer;
      assert.equal(result.keys, result.revision - 1);
      assert.ok(result.revision > 300);

      const copy = new SqliteStore({ path: join(dir, 'copy.db') });
      try {
        const all = await copy.range('/k/');
        assert.equal(all.kvs.length, result.keys);
        const values = new Set(all.kvs.map((kv) => Number(kv.value)));
        for (let i = 0; i < result.keys; i++) assert.ok(values.has(i), `key /k/${i} is in the copy`);
        assert.equal(all.revision, result.revision);
      } finally {
        await copy.close();
      }
    } finally {
      writing = false;
      await writer;
      await store.close();
    }
  });

  it('makes one self-contained file, not a WAL database', async () => {
    const source = join(dir, 'single.db');
    const store = new SqliteStore({ path: source });
    await put(store, '/a', '1');
    const target = join(dir, 'single-copy.db');
    await backupSqliteStore(source, target);
    await store.close();
    assert.ok(!existsSync(`${target}-wal`));
    const db = new Database(target, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'delete');
    } finally {
      db.close();
    }
  });

  it('never overwrites a file, and leaves nothing behind when it refuses or fails', async () => {
    const source = join(dir, 'refuse.db');
    const store = new SqliteStore({ path: source });
    await put(store, '/a', '1');
    await store.close();
    const before = new Set(readdirSync(dir));

    const existing = join(dir, 'existing.db');
    writeFileSync(existing, 'keep me');
    await assert.rejects(backupSqliteStore(source, existing), /already exists/);
    assert.equal(readFileSync(existing, 'utf8'), 'keep me');

    await assert.rejects(
      backupSqliteStore(join(dir, 'missing.db'), join(dir, 'x.db')),
      /there is no store at/,
    );

    const foreign = join(dir, 'foreign.db');
    new Database(foreign).exec('CREATE TABLE t (x)').close();
    await assert.rejects(backupSqliteStore(foreign, join(dir, 'y.db')), /is not a Bosun store/);

    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database at all, not even close to one; '.repeat(100));
    await assert.rejects(backupSqliteStore(junk, join(dir, 'z.db')), /is not a Bosun store/);

    const left = readdirSync(dir).filter((f) => !before.has(f));
    assert.deepEqual(left.sort(), ['existing.db', 'foreign.db', 'junk.db']);
  });

  it('`bosun backup` refuses an etcd store and points to etcdctl snapshot save', async () => {
    const err = await run(process.execPath, [
      bin,
      'backup',
      join(dir, 'e.db'),
      '--store',
      'etcd://127.0.0.1:1',
    ]).then(
      () => assert.fail('bosun backup accepted an etcd store'),
      (e: { code?: number; stderr?: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(
      err.stderr ?? '',
      /^bosun: the store is etcd: back it up with `etcdctl snapshot save <file>`/,
    );
  });
});
