/**
 * The user directory's answers of absence (src/users/user-directory.ts) on a view that lags behind
 * the store, as a node's watch does behind a user created on another node: the real view on an
 * in-memory store whose watch the test holds back (test/actions/fakes.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { userKey, type UserRecord } from '../../src/users/user-records.js';
import { UserDirectory } from '../../src/users/user-directory.js';
import { memoryCluster } from '../actions/fakes.js';

async function laggingDirectory() {
  const t = await memoryCluster();
  const users = new UserDirectory(t.store, t.view, t.keys);
  const user: UserRecord = {
    uid: 4,
    email: 'dee@example.com',
    name: 'dee',
    role: 'db_viewer',
    password_hash: 'not-a-real-hash',
    auth_method: 'regular',
    password_issue_date: '2026-12-01T00:00:00Z',
  };
  // Another node's create: the user and its two login indexes, which this view has not seen yet.
  t.store.holdWatch();
  t.store.put(userKey(t.keys, 4).key, JSON.stringify(user));
  t.store.put(t.keys.userEmail(user.email), '4');
  t.store.put(t.keys.userName(user.name), '4');
  const release = () => setImmediate(() => t.store.releaseWatch());
  return { ...t, users, release };
}

describe('UserDirectory on a view behind the store', () => {
  it('finds by uid a user created elsewhere a moment ago, rather than answering none', async () => {
    const t = await laggingDirectory();
    assert.equal(t.users.byUid(4), undefined, 'the view is behind');
    const found = t.users.byUidSettled(4);
    t.release();
    assert.equal((await found)?.user.name, 'dee');
  });

  it('finds by email or name a login created elsewhere a moment ago (sign-in on any node)', async () => {
    const t = await laggingDirectory();
    assert.equal(t.users.byLogin('DEE@example.com'), undefined, 'the view is behind');
    const byEmail = t.users.byLoginSettled('DEE@example.com');
    t.release();
    assert.equal((await byEmail)?.user.uid, 4);
    assert.equal((await t.users.byLoginSettled('dee'))?.user.uid, 4);
  });

  it('answers none for a login the store has never had, without waiting on the view', async () => {
    const t = await laggingDirectory();
    assert.equal(await t.users.byLoginSettled('nobody@example.com'), undefined);
    assert.equal(await t.users.byUidSettled(99), undefined);
  });
});
