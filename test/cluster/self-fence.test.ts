/**
 * The master's self-fencing under node:test's mock timers, not the wall clock: it stops acting a
 * third of a TTL before its lease could expire, a renewal in time moves that deadline, a fenced master
 * gives its lease up only once the lease is past its safe deadline unconfirmed, and one whose lease is
 * confirmed before then takes its unchanged term back. Fakes stand in for the store, view and
 * membership (one piece under test: MasterRole).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';

import { pino } from 'pino';

import { ClusterKeys, type MasterRecord } from '../../src/cluster/keys.js';
import { MasterRole } from '../../src/cluster/master.js';
import type { Membership } from '../../src/cluster/membership.js';
import type { ClusterView } from '../../src/cluster/view.js';
import type { KeyValue, Store, TxnRequest } from '../../src/store/types.js';

const keys = new ClusterKeys('/sf/');
const TTL = 3000;

/** A lease whose deadline the test moves; `renew` emits what a keep-alive answer would. */
class FakeLease extends EventEmitter {
  readonly id = 'L';
  readonly ttlMs = TTL;
  safeUntil = TTL;
  renew(at: number): void {
    const resumed = at >= this.safeUntil;
    this.safeUntil = at + TTL;
    this.emit('renewed', this.safeUntil, 0, resumed, 1);
  }
}

/** Just enough store and view for an election: the master key, written by the role's own txn. */
function fakes(lease: FakeLease) {
  let masterKv: KeyValue | undefined;
  const store = {
    get: async (key: string) => (key === keys.master.key ? masterKv : undefined),
    txn: async (request: TxnRequest) => {
      const put = request.success.find((op) => op.type === 'put' && op.key === keys.master.key);
      if (put?.type === 'put') {
        masterKv = {
          key: put.key,
          value: put.value,
          createRevision: 7,
          modRevision: 7,
          version: 1,
          lease: lease.id,
        };
      }
      return { succeeded: true, revision: 7 };
    },
  } as unknown as Store;
  const view = Object.assign(new EventEmitter(), {
    synced: true,
    revision: 0,
    get: (key: string) => (key === keys.master.key ? masterKv : undefined),
    recordOf: (kv: KeyValue) => JSON.parse(kv.value) as MasterRecord,
  }) as unknown as ClusterView;
  const abandoned: string[] = [];
  const membership = Object.assign(new EventEmitter(), {
    uid: 1,
    lease,
    abandon: (reason: string) => abandoned.push(reason),
  }) as unknown as Membership;
  return { store, view, membership, abandoned };
}

/** Lets promise callbacks run (setImmediate is not mocked). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('MasterRole self-fencing (mock timers)', () => {
  let role: MasterRole | undefined;
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => {
    role?.stop();
    mock.timers.reset();
  });

  async function electedMaster() {
    const lease = new FakeLease();
    const f = fakes(lease);
    role = new MasterRole(f.store, f.view, keys, f.membership, pino({ level: 'silent' }));
    const deposed: string[] = [];
    role.on('deposed', (_term, reason) => deposed.push(reason));
    role.start();
    (f.membership as unknown as EventEmitter).emit('joined', lease, 1);
    await settle();
    assert.equal(role.status, 'master');
    return { role, lease, deposed, abandoned: f.abandoned };
  }

  it('stops acting a third of a TTL before the lease could expire, then gives the lease up at its deadline', async () => {
    const { role, deposed, abandoned } = await electedMaster();
    mock.timers.tick(1999);
    assert.equal(role.status, 'master');
    mock.timers.tick(1);
    assert.equal(role.status, 'fenced');
    assert.deepEqual(deposed, ['lease not renewed in time (self-fenced)']);
    mock.timers.tick(999);
    assert.deepEqual(abandoned, [], 'the lease may still be confirmed until its safe deadline');
    mock.timers.tick(1);
    assert.deepEqual(abandoned, ['self-fenced as master']);
  });

  it('moves the fence with every renewal in time', async () => {
    const { role, lease, deposed } = await electedMaster();
    mock.timers.tick(1500);
    lease.renew(1500);
    mock.timers.tick(1999);
    assert.equal(role.status, 'master', 'the deadline moved to 1500 + TTL - TTL/3');
    mock.timers.tick(1);
    assert.equal(role.status, 'fenced');
    assert.equal(deposed.length, 1);
  });

  it('takes its unchanged term back when the lease is confirmed before its safe deadline', async () => {
    const { role, lease, abandoned } = await electedMaster();
    const token = role.term?.token;
    mock.timers.tick(2000);
    assert.equal(role.status, 'fenced');
    mock.timers.tick(500);
    lease.renew(2500);
    await settle();
    assert.equal(role.status, 'master');
    assert.equal(role.term?.token, token, 'the same term: no election happened');
    mock.timers.tick(1000);
    assert.deepEqual(abandoned, [], 'a confirmed lease is kept');
  });
});
