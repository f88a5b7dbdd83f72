/**
 * What only the etcd backend has to prove beyond the conformance suite: namespaces, compaction, and
 * the failure handling docs/design.md ("etcd client pitfalls") calls for (dead and hung members, raft leader loss, quorum
 * loss, a lost answer to a write). Runs on its own 3-member cluster; every test leaves it healthy.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';

import { Etcd3 } from 'etcd3';

import {
  CompactedError,
  LeaseLostError,
  StoreUnavailableError,
  TxnOutcomeUnknownError,
} from '../../src/store/errors.js';
import { EtcdStore, type EtcdStoreOptions } from '../../src/store/etcd/etcd-store.js';
import type { Lease, Store } from '../../src/store/types.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { Collector, del, put, waitFor, write } from './support.js';

const TIMEOUT = { timeout: 120_000 };

let cluster: EtcdCluster;
const stores: Store[] = [];
const leases: Lease[] = [];
const proxies: TcpProxy[] = [];
let p = '';

function open(options: Partial<EtcdStoreOptions> = {}): EtcdStore {
  const store = new EtcdStore({ endpoints: cluster.endpoints, minLeaseTtlMs: 1000, ...options });
  stores.push(store);
  return store;
}

before(async () => {
  cluster = await EtcdCluster.start({ size: 3 });
});

after(async () => {
  await cluster.stop();
});

afterEach(async () => {
  for (const lease of leases.splice(0)) if (!lease.lost) await lease.revoke().catch(() => lease.release());
  for (const store of stores.splice(0)) await store.close();
  for (const proxy of proxies.splice(0)) await proxy.close();
  // Fault tests restart what they stopped; make sure, so one failure does not cascade.
  for (const member of cluster.members) {
    if (member.paused) await member.resume();
    if (!member.running) await member.start();
  }
  await cluster.waitHealthy();
  p = `/etcd-backend/${randomUUID().slice(0, 8)}/`;
});

p = `/etcd-backend/${randomUUID().slice(0, 8)}/`;

/** Writes `${p}seq` in a loop until `stop()`, recording what the store said about each write. */
function writeLoop(store: Store): {
  acked: number[];
  failures: Error[];
  stop(): Promise<void>;
} {
  const acked: number[] = [];
  const failures: Error[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      try {
        acked.push(await write(store, put(`${p}seq`, String(i))));
      } catch (err) {
        failures.push(err as Error);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  return {
    acked,
    failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

function watchers(store: Store, from: number, count: number): Collector[] {
  return Array.from({ length: count }, () => {
    const c = new Collector();
    store.watch(p, from, c);
    return c;
  });
}

/** Every acknowledged revision reached every watcher, each in strictly increasing order. */
function assertDelivered(collectors: Collector[], acked: number[]): void {
  for (const c of collectors) {
    const seen = c.batches.map((b) => b.revision);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, 'revisions out of order');
    const set = new Set(seen);
    const missing = acked.filter((r) => !set.has(r));
    assert.deepEqual(missing, [], 'acknowledged writes missing from a watch');
  }
}

void describe('etcd backend: namespaces', () => {
  void it(
    'keeps clusters under different namespaces apart, and strips the namespace everywhere',
    TIMEOUT,
    async () => {
      const ns = `/ns-${randomUUID().slice(0, 8)}`;
      const a = open({ namespace: `${ns}/a` });
      const b = open({ namespace: `${ns}/b` });
      const watchA = new Collector();
      const from = (await a.range('/')).revision + 1;
      a.watch('/', from, watchA);
      const rA = await write(a, put('/master', 'A'), put('/nodes/1', 'a1'));
      const rB = await write(b, put('/master', 'B'));
      assert.equal((await a.get('/master'))?.value, 'A');
      assert.equal((await b.get('/master'))?.value, 'B');
      assert.deepEqual(
        (await a.range('')).kvs.map((kv) => kv.key),
        ['/master', '/nodes/1'],
      );
      // Compares see only their own namespace.
      const cas = await b.txn({
        compare: [{ key: '/nodes/1', target: 'create', op: '=', value: 0 }],
        success: [],
      });
      assert.equal(cas.succeeded, true);
      await watchA.reach(rA);
      assert.ok(rB > rA);
      assert.deepEqual(
        watchA.events.map((e) => e.kv.key),
        ['/master', '/nodes/1'],
      );
      const raw = new Etcd3({ hosts: cluster.endpoints.map((e) => `http://${e}`) });
      try {
        assert.equal(await raw.get(`${ns}/a/master`).string(), 'A');
        assert.equal(await raw.get(`${ns}/b/master`).string(), 'B');
      } finally {
        raw.close();
      }
    },
  );
});

void describe('etcd backend: compaction', () => {
  void it(
    'a watch from compacted history fails with CompactedError; from the compaction point it works',
    TIMEOUT,
    async () => {
      const store = open();
      const r1 = await write(store, put(`${p}k`, '1'));
      await write(store, put(`${p}k`, '2'));
      const r3 = await write(store, put(`${p}k`, '3'));
      const raw = new Etcd3({ hosts: cluster.endpoints.map((e) => `http://${e}`) });
      try {
        await raw.kv.compact({ revision: r3, physical: true });
      } finally {
        raw.close();
      }
      const old = new Collector();
      store.watch(p, r1, old);
      await waitFor('the compaction error', () => old.errors.length > 0);
      assert.ok(old.errors[0] instanceof CompactedError, String(old.errors[0]));
      assert.deepEqual(old.batches, []);
      const fromCompaction = new Collector();
      store.watch(p, r3, fromCompaction);
      await fromCompaction.reach(r3);
      assert.deepEqual(
        fromCompaction.events.map((e) => e.kv.value),
        ['3'],
      );
    },
  );
});

void describe('etcd backend: failures', () => {
  void it('retries a write elsewhere when a member refuses connections', TIMEOUT, async () => {
    const dead = await TcpProxy.start({ port: 1 });
    const deadEndpoint = dead.endpoint;
    await dead.close(); // nothing listens there any more: connection refused
    const store = open({ endpoints: [deadEndpoint, ...cluster.endpoints] });
    for (let i = 0; i < 30; i++) {
      const res = await store.txn({
        compare: [{ key: `${p}${i}`, target: 'create', op: '=', value: 0 }],
        success: [put(`${p}${i}`, 'once')],
      });
      assert.equal(res.succeeded, true, `write ${i}`);
    }
    const { kvs } = await store.range(p);
    assert.equal(kvs.length, 30);
    assert.ok(kvs.every((kv) => kv.version === 1));
  });

  void it(
    'reports a write whose answer was lost as outcome unknown, and never retries it',
    TIMEOUT,
    async () => {
      const member = cluster.members[0]!;
      const proxy = await TcpProxy.start({ port: member.clientPort });
      proxies.push(proxy);
      const store = open({ endpoints: [proxy.endpoint], callTimeoutMs: 500 });
      await store.get(`${p}warm-up`);
      proxy.pause('downstream'); // the request reaches etcd; the answer does not come back
      const attempt = store.txn({
        compare: [{ key: `${p}k`, target: 'create', op: '=', value: 0 }],
        success: [put(`${p}k`, 'mine')],
      });
      await assert.rejects(attempt, TxnOutcomeUnknownError);
      proxy.resume();
      // A retry would have found the key taken and said "succeeded: false" about our own write.
      const kv = await open().get(`${p}k`);
      assert.equal(kv?.value, 'mine');
      assert.equal(kv?.version, 1);
    },
  );

  void it(
    'survives kill -9 of the raft leader: writes resume, watches miss nothing, the lease holds',
    TIMEOUT,
    async () => {
      const store = open();
      const lease = await store.grantLease(3000);
      leases.push(lease);
      await write(store, put(`${p}holder`, 'me', lease.id));
      const from = (await store.range(p)).revision + 1;
      const collectors = watchers(store, from, 6);
      const loop = writeLoop(store);
      await waitFor('writes before the kill', () => loop.acked.length >= 20);
      const leader = await cluster.leader();
      await leader.kill('SIGKILL');
      const ackedAtKill = loop.acked.length;
      await waitFor('writes after the kill', () => loop.acked.length >= ackedAtKill + 30, 30_000);
      await loop.stop();
      for (const c of collectors) await c.reach(loop.acked.at(-1)!, 30_000);
      assertDelivered(collectors, loop.acked);
      for (const err of loop.failures) assert.ok(err instanceof StoreUnavailableError, String(err));
      assert.equal(lease.lost, false);
      assert.equal((await store.get(`${p}holder`))?.lease, lease.id);
      await leader.start();
    },
  );

  void it(
    'carries on while a member hangs (SIGSTOP): calls time out and move on, watches re-attach',
    TIMEOUT,
    async () => {
      const store = open({ callTimeoutMs: 1000 });
      const lease = await store.grantLease(3000);
      leases.push(lease);
      const from = (await store.range(p)).revision + 1;
      const collectors = watchers(store, from, 6);
      const [hung] = await cluster.followers();
      await hung!.pause();
      const loop = writeLoop(store);
      await waitFor('writes while the member hangs', () => loop.acked.length >= 30, 60_000);
      await loop.stop();
      // Still hung: a watch stream stuck on it must have been noticed (gRPC keep-alive) and moved.
      for (const c of collectors) await c.reach(loop.acked.at(-1)!, 30_000);
      assert.equal(hung!.paused, true);
      assertDelivered(collectors, loop.acked);
      for (const err of loop.failures) assert.ok(err instanceof StoreUnavailableError, String(err));
      assert.equal(lease.lost, false);
      await hung!.resume();
    },
  );

  void it(
    'on quorum loss fails calls as unavailable, holds the lease in doubt (not lost) until the server settles it, and recovers',
    TIMEOUT,
    async () => {
      const store = open();
      const lease = await store.grantLease(1000);
      leases.push(lease);
      const lost: Error[] = [];
      lease.on('lost', (err) => lost.push(err));
      const before = await write(store, put(`${p}k`, 'before'));
      const c = new Collector();
      store.watch(p, before + 1, c);
      const [m1, m2] = await cluster.followers();
      await m1!.kill('SIGKILL');
      await m2!.kill('SIGKILL');
      await assert.rejects(write(store, put(`${p}k`, 'during')), StoreUnavailableError);
      await assert.rejects(store.get(`${p}k`), StoreUnavailableError);
      // Past its safe deadline the lease is in doubt, not lost: etcd's next leader renews every lease
      // for a full TTL, so only the server's answer can say it is gone.
      await waitFor('the lease to fall in doubt', () => Date.now() >= lease.safeUntil, 30_000);
      assert.equal(lost.length, 0);
      assert.equal(lease.lost, false);

      await Promise.all([m1!.start(), m2!.start()]);
      await cluster.waitHealthy();
      await waitFor(
        'the server to settle the lease',
        () => lost.length > 0 || Date.now() < lease.safeUntil,
        30_000,
      );
      if (lost.length > 0) assert.ok(lost[0] instanceof LeaseLostError);
      let after = 0;
      await waitFor(
        'a write to succeed again',
        async () => {
          try {
            after = await write(store, put(`${p}k`, 'after'), del(`${p}gone`));
            return true;
          } catch (err) {
            assert.ok(err instanceof StoreUnavailableError, String(err));
            return false;
          }
        },
        30_000,
      );
      const event = await c.waitForEvent('the watch to resume', (e) => e.kv.modRevision === after, 30_000);
      assert.equal(event.kv.value, 'after');
      const fresh = await store.grantLease(1000);
      leases.push(fresh);
      assert.equal(fresh.lost, false);
    },
  );
});
