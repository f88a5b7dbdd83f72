/**
 * Election, fencing and self-fencing of MasterRole, in-process on a real SQLite store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { pino } from 'pino';

import { ClusterKeys } from '../../src/cluster/keys.js';
import { MasterRole } from '../../src/cluster/master.js';
import { NotMasterError } from '../../src/errors/domain.js';
import { Membership } from '../../src/cluster/membership.js';
import { ClusterView } from '../../src/cluster/view.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { testNodeRecord } from '../helpers/node-record.js';
import { eventually } from '../helpers/process-cluster.js';

const log = pino({ level: 'silent' });

interface Member {
  store: SqliteStore;
  view: ClusterView;
  membership: Membership;
  master: MasterRole;
}

describe('MasterRole', () => {
  let dir: string;
  const members: Member[] = [];
  const keys = new ClusterKeys('/t/');

  async function joinNode(uid: number, ttlMs = 600): Promise<Member> {
    const store = new SqliteStore({ path: join(dir, 'store.db'), pollIntervalMs: 5 });
    const view = new ClusterView(store, keys.prefix, log);
    await view.start();
    const membership = new Membership(store, keys, testNodeRecord(uid), ttlMs, log);
    const master = new MasterRole(store, view, keys, membership, log);
    await membership.join();
    master.start();
    const m = { store, view, membership, master };
    members.push(m);
    return m;
  }

  afterEach(async () => {
    for (const m of members.splice(0)) {
      m.master.stop();
      await m.membership.leave();
      await m.view.close();
      await m.store.close();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('elects exactly one of several nodes, with epoch 1', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-master-'));
    const nodes = await Promise.all([1, 2, 3].map((uid) => joinNode(uid)));
    const elected = await eventually(() => {
      const masters = nodes.filter((n) => n.master.isMaster);
      return masters.length === 1 ? masters[0] : undefined;
    });
    assert.equal(elected.master.term?.epoch, 1);
    const masterKv = await nodes[0]!.store.get(keys.master.key);
    assert.equal(
      masterKv?.modRevision,
      elected.master.term?.token,
      'the token is the master key mod revision',
    );
    assert.equal(nodes.filter((n) => n.master.isMaster).length, 1);
  });

  it('stops acting as master before its lease can expire on the server when it cannot renew', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-master-'));
    const a = await joinNode(1);
    await eventually(() => (a.master.isMaster ? true : undefined));
    const lease = a.membership.lease!;
    let deposedAt: number | undefined;
    a.master.on('deposed', () => (deposedAt ??= Date.now()));
    // Keep-alives stop, as when the store becomes unreachable; the lease runs out on the server.
    lease.release();
    const safeUntil = lease.safeUntil;
    const observer = new SqliteStore({ path: join(dir, 'store.db'), pollIntervalMs: 5 });
    try {
      // The lease runs out and the master key goes with it (the node may then rejoin and win again,
      // but under a new lease).
      await eventually(
        async () => ((await observer.get(keys.master.key))?.lease === lease.id ? undefined : true),
        10_000,
        'the master key to expire',
      );
      assert.ok(deposedAt !== undefined, 'the master stepped down before its lease expired on the server');
      assert.ok(
        deposedAt <= safeUntil,
        'it stepped down no later than the last moment its lease was certainly alive',
      );
      // If it won again after rejoining, that is a new term under a new token.
      const term = a.master.term;
      if (term) assert.notEqual((await observer.get(keys.master.key))?.lease, lease.id);
    } finally {
      await observer.close();
    }
  });

  it('refuses a fenced write from a deposed master, even one that still believes it is master', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-master-'));
    const a = await joinNode(1);
    await eventually(() => (a.master.isMaster ? true : undefined));
    const b = await joinNode(2);
    // Someone else takes the master key behind a's back (as a take-over or a new election would).
    const masterKv = (await b.store.get(keys.master.key))!;
    await b.store.txn({
      compare: [{ key: keys.master.key, target: 'mod', op: '=', value: masterKv.modRevision }],
      success: [
        {
          type: 'put',
          key: keys.master.key,
          value: JSON.stringify({ node_uid: 2, epoch: 2, since: Date.now() }),
          lease: b.membership.lease!.id,
        },
      ],
    });
    // Whatever a believes, its next fenced write fails and it steps down.
    await assert.rejects(
      a.master.fencedTxn({ compare: [], success: [{ type: 'put', key: '/t/probe', value: 'stale' }] }),
      NotMasterError,
    );
    assert.equal(a.master.isMaster, false);
    assert.equal(await a.store.get('/t/probe'), undefined, 'the stale write did not land');
  });
});
