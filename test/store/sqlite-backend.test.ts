/**
 * What only the embedded backend has to prove beyond the conformance suite: real separate processes
 * on one file (locking, cross-process watch wake-ups, a crashed holder's lease), and compaction.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CompactedError } from '../../src/store/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { Collector, put, sleep, waitFor, write } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'bosun-sqlite-backend-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const childScript = fileURLToPath(new URL('./fixtures/sqlite-child.js', import.meta.url));

const children = new Set<ChildProcess>();
const stores = new Set<SqliteStore>();
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const store of stores) await store.close();
  stores.clear();
});

let fileSeq = 0;
function openStore(
  path: string,
  options: { historyRevisions?: number; historyMaxAgeMs?: number } = {},
): SqliteStore {
  const store = new SqliteStore({ path, ...options });
  stores.add(store);
  return store;
}

/** Starts a child process on the file; resolves with its first JSON line, and the process. */
function runChild<T>(job: object): {
  child: ChildProcess;
  first: Promise<T>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [childScript, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const first = new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(JSON.parse(line) as T));
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before reporting`)));
  });
  return { child, first, exited };
}

void describe('sqlite backend: separate processes on one file', () => {
  void it(
    'opening a new file that another process holds locked waits for it, never fails',
    { timeout: 60_000 },
    async () => {
      const path = join(dir, `${++fileSeq}.db`);
      const holder = runChild<{ locked: boolean }>({ path, job: 'hold-exclusive', ms: 600 });
      await holder.first;
      // A busy handler far shorter than the lock: only the open's own retry can carry it through.
      const store = new SqliteStore({ path, busyTimeoutMs: 20 });
      stores.add(store);
      const revision = await write(store, put('/k', 'v'));
      assert.equal((await store.get('/k'))?.modRevision, revision);
      assert.equal(await holder.exited, 0);
    },
  );

  void it('a watcher sees another process’s writes, in order', { timeout: 60_000 }, async () => {
    const path = join(dir, `${++fileSeq}.db`);
    const store = openStore(path);
    const from = (await write(store, put('/seed', '1'))) + 1;
    const c = new Collector();
    const w = store.watch('/p/', from, c);
    const { first, exited } = runChild<{ revisions: number[] }>({
      path,
      job: 'write',
      prefix: '/p/',
      count: 20,
    });
    const { revisions } = await first;
    assert.equal(await exited, 0);
    await c.reach(revisions.at(-1)!);
    await w.close();
    assert.deepEqual(
      c.batches.map((b) => b.revision),
      revisions,
    );
    assert.deepEqual(
      c.events.map((e) => e.kv.value),
      revisions.map((_, i) => String(i)),
    );
  });

  void it('compare-and-swap from three processes loses no increment', { timeout: 60_000 }, async () => {
    const path = join(dir, `${++fileSeq}.db`);
    const store = openStore(path);
    await write(store, put('/counter', '0'));
    const runs = [1, 2, 3].map(() =>
      runChild<{ conflicts: number }>({ path, job: 'increment', key: '/counter', count: 20 }),
    );
    await Promise.all(runs.map((r) => r.first));
    assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [0, 0, 0]);
    const kv = await store.get('/counter');
    assert.equal(kv?.value, '60');
    assert.equal(kv?.version, 61);
  });

  void it(
    'the lease of a process killed with SIGKILL runs out, and watchers see its key go',
    { timeout: 60_000 },
    async () => {
      const path = join(dir, `${++fileSeq}.db`);
      const store = openStore(path);
      const { child, first, exited } = runChild<{ revision: number; ttlMs: number }>({
        path,
        job: 'hold-lease',
        key: '/nodes/child',
        ttlMs: 500,
      });
      const { revision, ttlMs } = await first;
      assert.equal((await store.get('/nodes/child'))?.value, 'held');
      const c = new Collector();
      const w = store.watch('/nodes/', revision + 1, c);
      child.kill('SIGKILL');
      await exited;
      const gone = await c.waitForEvent(
        'the delete of the dead process’s key',
        (e) => e.type === 'delete',
        ttlMs * 4 + 10_000,
      );
      await w.close();
      assert.equal(gone.kv.key, '/nodes/child');
      assert.equal(await store.get('/nodes/child'), undefined);
    },
  );
});

void describe('sqlite backend: compaction', () => {
  void it(
    'a watch from compacted history fails with CompactedError; recent history still replays',
    { timeout: 60_000 },
    async () => {
      const path = join(dir, `${++fileSeq}.db`);
      const store = openStore(path, { historyRevisions: 100 });
      const first = await write(store, put('/k', '0'));
      let last = first;
      // Compaction runs every 1000 writes of a process.
      for (let i = 1; i <= 1000; i++) last = await write(store, put('/k', String(i)));

      const old = new Collector();
      store.watch('/', first, old);
      await waitFor('the compaction error', () => old.errors.length > 0);
      assert.ok(old.errors[0] instanceof CompactedError, String(old.errors[0]));
      assert.deepEqual(old.batches, []);

      const recent = new Collector();
      const w = store.watch('/', last - 10, recent);
      await recent.reach(last);
      await w.close();
      assert.equal(recent.batches.length, 11);
    },
  );

  void it(
    'a live watcher that falls behind compaction in another process gets CompactedError',
    { timeout: 60_000 },
    async () => {
      const path = join(dir, `${++fileSeq}.db`);
      const writer = openStore(path, { historyRevisions: 10 });
      const reader = new SqliteStore({ path, pollIntervalMs: 60_000 });
      stores.add(reader);
      const from = (await write(writer, put('/k', 'start'))) + 1;
      const c = new Collector();
      reader.watch('/', from, c);
      await sleep(20); // lets the watch attach (it does so on the next turn of the event loop)
      // These writes never yield to the event loop, so the reader cannot poll until they are done, and by
      // then the writer has compacted the history it still needs.
      for (let i = 0; i < 1000; i++) await write(writer, put('/k', String(i)));
      await waitFor('the compaction error', () => c.errors.length > 0, 30_000);
      assert.ok(c.errors[0] instanceof CompactedError, String(c.errors[0]));
    },
  );

  void it(
    'a superseded value (an old password hash) leaves the file within historyMaxAgeMs, with no more writes',
    { timeout: 30_000 },
    async () => {
      const path = join(dir, `${++fileSeq}.db`);
      const store = openStore(path, { historyMaxAgeMs: 300 });
      const old = 'scrypt$OLD-HASH-MARKER-0123456789';
      await write(store, put('/users/1', old));
      await write(store, put('/users/1', 'scrypt$new-hash'));
      const fileHolds = (marker: string): boolean =>
        [path, `${path}-wal`].some((f) => existsSync(f) && readFileSync(f).includes(marker));
      assert.ok(fileHolds('OLD-HASH-MARKER'), 'control: the history holds the old value at first');
      // No writes from here on: only the clock can compact.
      await waitFor('the old value to leave the file', () => !fileHolds('OLD-HASH-MARKER'), 10_000);
      assert.ok(fileHolds('new-hash'), 'the current value stays');
      assert.equal((await store.get('/users/1'))?.value, 'scrypt$new-hash');
    },
  );

  void it('creates the database file and its folder owner-only, and tightens an existing file', async () => {
    const sub = join(dir, `private-${++fileSeq}`);
    const path = join(sub, 'bosun.db');
    const first = openStore(path);
    await write(first, put('/k', 'v'));
    await first.close();
    // As an older version left it: world-readable.
    chmodSync(path, 0o644);
    openStore(path);
    assert.equal(statSync(sub).mode & 0o777, 0o700);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) {
      if (existsSync(f)) assert.equal(statSync(f).mode & 0o077, 0, `${f} is readable by others`);
    }
  });
});
