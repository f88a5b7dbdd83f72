/**
 * The user directory on its own, over a real SQLite store and view: uids, unique identifiers, the
 * last admin, and compare-and-swap that runs out of retries as a conflict (409), never as an
 * unavailable store, and never in an endless loop.
 */
import { statusOf } from '../../src/api/http-errors.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { pino } from 'pino';

import { ClusterKeys } from '../../src/cluster/keys.js';
import { ClusterView } from '../../src/cluster/view.js';
import { BosunError } from '../../src/errors/catalogue.js';
import { ConflictError } from '../../src/errors/domain.js';
import { MalformedRecordError } from '../../src/store/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store, TxnRequest } from '../../src/store/types.js';
import { UserDirectory } from '../../src/users/user-directory.js';

const log = pino({ level: 'silent' });
const keys = new ClusterKeys('/u/');

/** A store on which another writer touches `key` just before every transaction of ours. */
function contended(inner: Store, key: string): Store {
  const txn = async (request: TxnRequest) => {
    const current = await inner.get(key);
    await inner.txn({ compare: [], success: [{ type: 'put', key, value: current?.value ?? '0' }] });
    return inner.txn(request);
  };
  return {
    profile: inner.profile,
    get: (k) => inner.get(k),
    range: (prefix) => inner.range(prefix),
    txn,
    grantLease: (ttlMs) => inner.grantLease(ttlMs),
    revokeLease: (id) => inner.revokeLease(id),
    watch: (prefix, from, handlers) => inner.watch(prefix, from, handlers),
    close: () => inner.close(),
  };
}

const isConflict = (err: unknown): boolean =>
  err instanceof ConflictError && err.code === 'concurrent_update' && statusOf(err.code) === 409;

describe('UserDirectory', () => {
  let dir: string;
  let store: SqliteStore;
  let view: ClusterView;
  let users: UserDirectory;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-users-'));
    store = new SqliteStore({ path: join(dir, 'store.db'), pollIntervalMs: 5 });
    view = new ClusterView(store, keys.prefix, log);
    await view.start();
    users = new UserDirectory(store, view, keys);
  });

  afterEach(async () => {
    await view.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const newUser = (name: string, role: 'admin' | 'db_viewer' = 'db_viewer') => ({
    email: `${name}@example.com`,
    name,
    password: 'a long enough password',
    role,
  });

  it('hands out increasing uids and answers from the view at once (read-your-writes)', async () => {
    const a = await users.create(newUser('ann', 'admin'));
    const b = await users.create(newUser('bob'));
    assert.equal(a?.uid, 1);
    assert.equal(b?.uid, 2);
    assert.equal(users.byLogin('bob@example.com')?.user.uid, 2);
    assert.equal(users.byLogin('BOB')?.user.uid, 2);
    assert.deepEqual(
      users.list().map((u) => u.name),
      ['ann', 'bob'],
    );
  });

  it("refuses an email or name that is already someone's login", async () => {
    await users.create(newUser('ann'));
    assert.equal(await users.create({ ...newUser('ann2'), email: 'ANN@example.com' }), undefined);
    assert.equal(await users.create({ ...newUser('x'), name: 'ann@example.com', email: '' }), undefined);
    const bob = await users.create(newUser('bob'));
    await assert.rejects(users.update(bob!.uid, { name: 'ANN' }), { code: 'name_already_exists' });
  });

  it('keeps the last admin', async () => {
    const ann = await users.create(newUser('ann', 'admin'));
    await assert.rejects(users.delete(ann!.uid), { code: 'last_admin' });
    await assert.rejects(users.update(ann!.uid, { role: 'db_viewer' }), { code: 'last_admin' });
    await users.create(newUser('bob', 'admin'));
    await users.update(ann!.uid, { role: 'db_viewer' });
    assert.equal(users.byUid(ann!.uid)?.user.role, 'db_viewer');
  });

  it('gives up an update of a user that keeps changing as a conflict, not as an unavailable store', async () => {
    const ann = await users.create(newUser('ann'));
    const busy = new UserDirectory(contended(store, keys.user(ann!.uid)), view, keys);
    await assert.rejects(busy.update(ann!.uid, { name: 'anne' }), isConflict);
    await assert.rejects(busy.delete(ann!.uid), isConflict);
  });

  it(
    'gives up a create that keeps losing the uid race as a conflict, instead of looping for ever',
    { timeout: 10_000 },
    async () => {
      const busy = new UserDirectory(contended(store, keys.userSeq), view, keys);
      const outcome = await Promise.race([
        busy.create(newUser('ann')).then(
          () => 'created',
          (err: unknown) => (isConflict(err) ? 'conflict' : err),
        ),
        new Promise((resolve) => setTimeout(() => resolve('still looping'), 5000).unref()),
      ]);
      assert.equal(outcome, 'conflict');
    },
  );

  it('reports a malformed stored user as one clear error', async () => {
    const { revision } = await store.txn({
      compare: [],
      success: [{ type: 'put', key: keys.user(7), value: JSON.stringify({ uid: 7, name: 'x' }) }],
    });
    await view.waitFor(revision);
    assert.throws(() => users.byUid(7), MalformedRecordError);
    await assert.rejects(users.update(7, { name: 'y' }), MalformedRecordError);
    assert.ok(!(new MalformedRecordError('k', 'user', 'd') instanceof BosunError));
  });
});
