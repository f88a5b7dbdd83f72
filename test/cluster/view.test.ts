/**
 * ClusterView on its own, over a real SQLite store: typed reads checked once per revision, a
 * malformed record as one clear error, folder listings, read-your-writes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { pino } from 'pino';

import { ClusterKeys, type MemberRecord } from '../../src/cluster/keys.js';
import { ClusterView } from '../../src/cluster/view.js';
import { MalformedRecordError, StoreError } from '../../src/store/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { putRecord } from '../../src/store/typed-key.js';

const log = pino({ level: 'silent' });
const keys = new ClusterKeys('/v/');

function member(uid: number): MemberRecord {
  return {
    uid,
    addr: '127.0.0.1',
    http_port: 9080,
    https_port: 9443,
    software_version: 'test',
    hostname: 'h',
    joined_at: 1,
  };
}

describe('ClusterView', () => {
  let dir: string;
  let store: SqliteStore;
  let view: ClusterView;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-view-'));
    store = new SqliteStore({ path: join(dir, 'store.db'), pollIntervalMs: 5 });
    view = new ClusterView(store, keys.prefix, log);
    await view.start();
  });

  afterEach(async () => {
    await view.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function write(...ops: Parameters<typeof putRecord>[]): Promise<number> {
    const { revision } = await store.txn({ compare: [], success: ops.map((op) => putRecord(...op)) });
    await view.waitFor(revision);
    return revision;
  }

  it('answers a typed read from memory, parsed and checked once per revision of the key', async () => {
    await write([keys.member(1), member(1)]);
    const first = view.read(keys.member(1));
    assert.deepEqual(first, member(1));
    assert.equal(view.read(keys.member(1)), first, 'the same object: not parsed again');
    await write([keys.member(1), { ...member(1), hostname: 'other' }]);
    const second = view.read(keys.member(1));
    assert.notEqual(second, first);
    assert.equal(second?.hostname, 'other');
    assert.equal(view.read(keys.member(2)), undefined);
  });

  it('reports a record of the wrong shape as one MalformedRecordError naming the key and the fault', async () => {
    const { revision } = await store.txn({
      compare: [],
      success: [
        { type: 'put', key: keys.member(3).key, value: JSON.stringify({ ...member(3), uid: 'three' }) },
      ],
    });
    await view.waitFor(revision);
    assert.throws(
      () => view.read(keys.member(3)),
      (err: unknown) =>
        err instanceof MalformedRecordError &&
        err.key === keys.member(3).key &&
        err.recordType === 'member' &&
        /uid/.test(err.detail),
    );
    const notJson = await store.txn({
      compare: [],
      success: [{ type: 'put', key: keys.member(4).key, value: '{' }],
    });
    await view.waitFor(notJson.revision);
    assert.throws(() => view.read(keys.member(4)), /malformed member record under \/v\/members\/4: not JSON/);
  });

  it('lists a folder in key order, and readAll gives its records', async () => {
    await write(
      [keys.member(2), member(2)],
      [keys.member(1), member(1)],
      [keys.master, { node_uid: 1, epoch: 1, since: 0 }],
    );
    assert.deepEqual(
      view.list(keys.members.prefix).map((kv) => kv.key),
      [keys.member(1).key, keys.member(2).key],
    );
    assert.deepEqual(
      view.readAll(keys.members).map((m) => m.uid),
      [1, 2],
    );
    assert.equal(view.read(keys.master)?.node_uid, 1);
  });

  it('resolves waitFor only once the revision is applied, and at once for one already applied', async () => {
    const { revision } = await store.txn({ compare: [], success: [putRecord(keys.member(5), member(5))] });
    await view.waitFor(revision);
    assert.ok(view.revision >= revision);
    assert.ok(view.read(keys.member(5)));
    await view.waitFor(1);
    await assert.rejects(view.waitFor(revision + 1000, 50), /did not reach revision/);
  });

  it('settles a key another instance wrote a moment ago: found once the view holds it, not reported absent', async () => {
    // A second instance on the same file whose watch polls slowly: its view is behind the writer.
    const slow = new SqliteStore({ path: join(dir, 'store.db'), pollIntervalMs: 1000 });
    const lagging = new ClusterView(slow, keys.prefix, log);
    await lagging.start();
    try {
      await store.txn({ compare: [], success: [putRecord(keys.member(8), member(8))] });
      assert.equal(lagging.read(keys.member(8)), undefined, 'the view is behind the store');
      await lagging.settle(keys.member(8).key);
      assert.equal(lagging.read(keys.member(8))?.uid, 8);

      await store.txn({ compare: [], success: [putRecord(keys.member(9), member(9))] });
      await lagging.settleFolder(keys.members.prefix);
      assert.equal(lagging.read(keys.member(9))?.uid, 9);

      // A key the store lacks settles at once: its absence is the store's answer.
      await lagging.settle(keys.member(10).key);
      assert.equal(lagging.read(keys.member(10)), undefined);
      // A store out of reach is a StoreError (503 to a client), never a made-up absence.
      await slow.close();
      await assert.rejects(lagging.settle(keys.member(11).key), StoreError);
    } finally {
      await lagging.close();
      await slow.close();
    }
  });
});
