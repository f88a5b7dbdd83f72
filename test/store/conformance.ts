/**
 * The store conformance suite: every backend must pass it unchanged, because `cluster/` is written
 * once against the contract in src/store/types.ts and relies on exactly these behaviours.
 *
 * `open` returns a new store instance on one shared backend (the same SQLite file, the same etcd
 * cluster); tests that need "another process" open a second one. Each test works under a fresh key
 * prefix, so tests never see each other's keys. Nothing asserts a wall-clock time: waits poll with
 * generous timeouts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';

import { InvalidRequestError, LeaseLostError, StoreClosedError } from '../../src/store/errors.js';
import type { Compare, CompareOp, CompareTarget, Lease, Store, WatchBatch } from '../../src/store/types.js';
import { Collector, blockEventLoop, del, put, sleep, waitFor, write } from './support.js';

export interface OpenedStore {
  readonly store: Store;
  cleanup(): Promise<void>;
}

export type OpenStore = () => Promise<OpenedStore>;

interface Ctx {
  /** A store instance for this test. */
  readonly store: Store;
  /** A fresh key prefix, ending in '/'. */
  readonly p: string;
  /** Another instance on the same backend, as another node process would have. */
  readonly other: () => Promise<Store>;
  /** A lease with the backend's smallest sensible TTL (at least 1 s). */
  readonly lease: (store?: Store) => Promise<Lease>;
}

const TEST_TIMEOUT_MS = 90_000;
const OPS: readonly CompareOp[] = ['=', '!=', '<', '>'];

function holds(actual: number | string, op: CompareOp, expected: number | string): boolean {
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '>':
      return actual > expected;
  }
}

export function defineStoreConformance(name: string, open: OpenStore): void {
  void describe(`store conformance: ${name}`, () => {
    // A run id keeps reruns against a long-lived backend (one etcd) from seeing old keys.
    const runId = randomUUID().slice(0, 8);
    let testSeq = 0;
    const opened: OpenedStore[] = [];
    const leases: Lease[] = [];

    async function openTracked(): Promise<Store> {
      const o = await open();
      opened.push(o);
      return o.store;
    }

    async function setup(): Promise<Ctx> {
      const store = await openTracked();
      const p = `/conformance/${runId}/${++testSeq}/`;
      return {
        store,
        p,
        other: openTracked,
        lease: async (s = store) => {
          const lease = await s.grantLease(Math.max(1000, s.profile.minLeaseTtlMs));
          leases.push(lease);
          return lease;
        },
      };
    }

    afterEach(async () => {
      for (const lease of leases.splice(0)) {
        // Leave no lease ticking into the next test (its expiry would bump revisions there).
        if (!lease.lost) await lease.revoke().catch(() => lease.release());
      }
      for (const o of opened.splice(0)) await o.cleanup();
    });

    const test = (title: string, fn: () => Promise<void>): void => {
      void it(title, { timeout: TEST_TIMEOUT_MS }, fn);
    };

    void describe('get and range', () => {
      test('get returns undefined for a missing key', async () => {
        const { store, p } = await setup();
        assert.equal(await store.get(`${p}missing`), undefined);
      });

      test('a put is visible to get, with its revisions and version', async () => {
        const { store, p } = await setup();
        const rev = await write(store, put(`${p}k`, 'v1'));
        assert.deepEqual(await store.get(`${p}k`), {
          key: `${p}k`,
          value: 'v1',
          createRevision: rev,
          modRevision: rev,
          version: 1,
          lease: undefined,
        });
      });

      test('values round-trip unchanged', async () => {
        const { store, p } = await setup();
        const values = [
          '',
          ' ',
          'ünïcødé ✓ 🚢',
          JSON.stringify({ a: [1, 'x'], b: null }),
          'x'.repeat(100_000),
        ];
        await write(store, ...values.map((v, i) => put(`${p}${i}`, v)));
        for (const [i, v] of values.entries()) assert.equal((await store.get(`${p}${i}`))?.value, v);
        const { kvs } = await store.range(p);
        assert.deepEqual(
          kvs.map((kv) => kv.value),
          values,
        );
      });

      test('range returns exactly the keys under the prefix, sorted by key', async () => {
        const { store, p } = await setup();
        const inside = [`${p}r/`, `${p}r/a`, `${p}r/b`, `${p}r/b/c`, `${p}r/c`];
        const outside = [`${p}r`, `${p}q/z`, `${p}r0`, `${p}r.`, `${p}s/a`];
        // Written in an order that is neither sorted nor reverse-sorted.
        await write(
          store,
          ...[inside[3]!, outside[0]!, inside[1]!, outside[2]!, inside[4]!].map((k) => put(k, k)),
        );
        await write(
          store,
          ...[inside[0]!, outside[1]!, inside[2]!, outside[3]!, outside[4]!].map((k) => put(k, k)),
        );
        const { kvs } = await store.range(`${p}r/`);
        assert.deepEqual(
          kvs.map((kv) => kv.key),
          inside,
        );
        assert.ok(kvs.every((kv) => kv.value === kv.key));
        assert.deepEqual((await store.range(`${p}nothing/`)).kvs, []);
      });

      test('range reports the revision it read at', async () => {
        const { store, p } = await setup();
        const r1 = await write(store, put(`${p}a`, '1'));
        const r2 = await write(store, put(`${p}b`, '1'));
        const res = await store.range(p);
        assert.ok(res.revision >= r2, `range revision ${res.revision} < last write ${r2}`);
        assert.deepEqual(
          res.kvs.map((kv) => kv.modRevision),
          [r1, r2],
        );
        const r3 = await write(store, put(`${p}a`, '2'));
        assert.ok(r3 > res.revision);
        const empty = await store.range(`${p}none/`);
        assert.ok(empty.revision >= r3);
      });
    });

    void describe('transactions: puts and deletes', () => {
      test('a second put keeps createRevision and bumps modRevision and version', async () => {
        const { store, p } = await setup();
        const r1 = await write(store, put(`${p}k`, 'a'));
        const r2 = await write(store, put(`${p}k`, 'b'));
        const r3 = await write(store, put(`${p}k`, 'b'));
        assert.ok(r1 < r2 && r2 < r3);
        const kv = await store.get(`${p}k`);
        assert.equal(kv?.value, 'b');
        assert.equal(kv?.createRevision, r1);
        assert.equal(kv?.modRevision, r3);
        assert.equal(kv?.version, 3);
      });

      test('delete removes the key; putting it again starts a new life', async () => {
        const { store, p } = await setup();
        const r1 = await write(store, put(`${p}k`, 'a'), put(`${p}other`, 'x'));
        await write(store, put(`${p}k`, 'b'));
        const rd = await write(store, del(`${p}k`));
        assert.equal(await store.get(`${p}k`), undefined);
        assert.deepEqual(
          (await store.range(p)).kvs.map((kv) => kv.key),
          [`${p}other`],
        );
        const r4 = await write(store, put(`${p}k`, 'c'));
        assert.ok(rd > r1 && r4 > rd);
        const kv = await store.get(`${p}k`);
        assert.equal(kv?.createRevision, r4);
        assert.equal(kv?.modRevision, r4);
        assert.equal(kv?.version, 1);
      });

      test('all operations of one transaction share one revision', async () => {
        const { store, p } = await setup();
        const r0 = await write(store, put(`${p}c`, 'old'), put(`${p}d`, 'stays'));
        const r1 = await write(store, put(`${p}a`, '1'), put(`${p}b`, '2'), del(`${p}c`));
        assert.ok(r1 > r0);
        const { kvs } = await store.range(p);
        assert.deepEqual(
          kvs.map((kv) => [kv.key, kv.modRevision]),
          [
            [`${p}a`, r1],
            [`${p}b`, r1],
            [`${p}d`, r0],
          ],
        );
      });

      test('a transaction may not write one key twice, on any backend', async () => {
        const { store, p } = await setup();
        const before = (await store.range(p)).revision;
        await assert.rejects(
          store.txn({ compare: [], success: [put(`${p}k`, '1'), put(`${p}k`, '2')] }),
          InvalidRequestError,
        );
        await assert.rejects(
          store.txn({ compare: [], success: [put(`${p}k`, '1'), del(`${p}k`)] }),
          InvalidRequestError,
        );
        // Checked before the compares run: a branch that would not be taken is rejected too.
        await assert.rejects(
          store.txn({
            compare: [{ key: `${p}k`, target: 'create', op: '=', value: 0 }],
            success: [],
            failure: [put(`${p}k`, '1'), put(`${p}k`, '2')],
          }),
          InvalidRequestError,
        );
        assert.equal(await store.get(`${p}k`), undefined);
        assert.equal((await store.range(p)).revision, before);
      });
    });

    void describe('compares', () => {
      test('every target and operator, on an existing key', async () => {
        const { store, p } = await setup();
        const k = `${p}k`;
        const rc = await write(store, put(k, 'm'));
        await write(store, put(`${p}unrelated`, 'x'));
        const rm = await write(store, put(k, 'm'));
        const numeric: [CompareTarget, number][] = [
          ['create', rc],
          ['mod', rm],
          ['version', 2],
        ];
        const failures: string[] = [];
        const check = async (c: Compare, expected: boolean): Promise<void> => {
          const res = await store.txn({ compare: [c], success: [] });
          if (res.succeeded !== expected) {
            failures.push(`${c.target} ${c.op} ${JSON.stringify(c.value)}: expected ${String(expected)}`);
          }
        };
        for (const [target, actual] of numeric) {
          for (const value of [actual - 1, actual, actual + 1]) {
            for (const op of OPS) await check({ key: k, target, op, value }, holds(actual, op, value));
          }
        }
        for (const value of ['l', 'm', 'n', 'mm', '', 'M']) {
          for (const op of OPS) await check({ key: k, target: 'value', op, value }, holds('m', op, value));
        }
        assert.deepEqual(failures, []);
      });

      test('values compare as strings, not numbers', async () => {
        const { store, p } = await setup();
        await write(store, put(`${p}n`, '10'));
        const c = (op: CompareOp, value: string): Compare => ({ key: `${p}n`, target: 'value', op, value });
        assert.equal((await store.txn({ compare: [c('<', '9')], success: [] })).succeeded, true);
        assert.equal((await store.txn({ compare: [c('>', '9')], success: [] })).succeeded, false);
        assert.equal((await store.txn({ compare: [c('=', '10')], success: [] })).succeeded, true);
      });

      test('a missing key has create = mod = version = 0, and value compares never match', async () => {
        const { store, p } = await setup();
        const k = `${p}missing`;
        const failures: string[] = [];
        for (const target of ['create', 'mod', 'version'] as const) {
          for (const value of [0, 1]) {
            for (const op of OPS) {
              const res = await store.txn({ compare: [{ key: k, target, op, value }], success: [] });
              if (res.succeeded !== holds(0, op, value)) failures.push(`${target} ${op} ${value}`);
            }
          }
        }
        for (const value of ['', 'x']) {
          for (const op of OPS) {
            const res = await store.txn({ compare: [{ key: k, target: 'value', op, value }], success: [] });
            if (res.succeeded) failures.push(`value ${op} ${JSON.stringify(value)} matched a missing key`);
          }
        }
        assert.deepEqual(failures, []);
      });

      test('a deleted key compares like a missing one', async () => {
        const { store, p } = await setup();
        await write(store, put(`${p}k`, 'v'));
        await write(store, del(`${p}k`));
        const res = await store.txn({
          compare: [
            { key: `${p}k`, target: 'create', op: '=', value: 0 },
            { key: `${p}k`, target: 'mod', op: '=', value: 0 },
            { key: `${p}k`, target: 'version', op: '=', value: 0 },
          ],
          success: [],
        });
        assert.equal(res.succeeded, true);
      });

      test('all compares must hold, and an empty compare list always holds', async () => {
        const { store, p } = await setup();
        const rev = await write(store, put(`${p}a`, '1'), put(`${p}b`, '2'));
        const aOk: Compare = { key: `${p}a`, target: 'value', op: '=', value: '1' };
        const bOk: Compare = { key: `${p}b`, target: 'mod', op: '=', value: rev };
        const bBad: Compare = { key: `${p}b`, target: 'value', op: '=', value: '1' };
        assert.equal((await store.txn({ compare: [aOk, bOk], success: [] })).succeeded, true);
        assert.equal((await store.txn({ compare: [aOk, bBad], success: [] })).succeeded, false);
        assert.equal((await store.txn({ compare: [bBad, aOk], success: [] })).succeeded, false);
        assert.equal((await store.txn({ compare: [], success: [] })).succeeded, true);
      });

      test('the failure branch runs, alone, when a compare fails', async () => {
        const { store, p } = await setup();
        const r0 = await write(store, put(`${p}k`, 'v'), put(`${p}gone`, 'x'));
        const res = await store.txn({
          compare: [{ key: `${p}k`, target: 'value', op: '=', value: 'other' }],
          success: [put(`${p}yes`, '1')],
          failure: [put(`${p}no`, '1'), del(`${p}gone`)],
        });
        assert.equal(res.succeeded, false);
        assert.ok(res.revision > r0);
        assert.equal(await store.get(`${p}yes`), undefined);
        assert.equal(await store.get(`${p}gone`), undefined);
        assert.equal((await store.get(`${p}no`))?.modRevision, res.revision);
      });

      test('a compare-and-swap on modRevision rejects a stale writer', async () => {
        const { store, p } = await setup();
        const r0 = await write(store, put(`${p}k`, 'v0'));
        const cas = (seen: number, value: string) =>
          store.txn({
            compare: [{ key: `${p}k`, target: 'mod', op: '=', value: seen }],
            success: [put(`${p}k`, value)],
          });
        const first = await cas(r0, 'first');
        assert.equal(first.succeeded, true);
        const stale = await cas(r0, 'stale');
        assert.equal(stale.succeeded, false);
        assert.equal((await store.get(`${p}k`))?.value, 'first');
      });
    });

    void describe('revisions', () => {
      test('each changing transaction takes a new, higher revision', async () => {
        const { store, p } = await setup();
        const revs: number[] = [];
        for (let i = 0; i < 10; i++) revs.push(await write(store, put(`${p}${i % 3}`, String(i))));
        revs.push(await write(store, del(`${p}0`)));
        for (let i = 1; i < revs.length; i++)
          assert.ok(revs[i]! > revs[i - 1]!, `revisions ${revs.join(',')}`);
      });

      test('transactions that change nothing take no revision', async () => {
        const { store, p } = await setup();
        const r0 = await write(store, put(`${p}k`, 'v'));
        const noops = [
          { compare: [{ key: `${p}k`, target: 'value', op: '=', value: 'x' }], success: [put(`${p}k`, 'y')] },
          { compare: [{ key: `${p}k`, target: 'value', op: '=', value: 'v' }], success: [] },
          { compare: [], success: [del(`${p}missing`)] },
        ] as const;
        for (const req of noops) assert.equal((await store.txn(req)).revision, r0);
        assert.equal((await store.range(p)).revision, r0);
        assert.equal((await store.get(`${p}k`))?.modRevision, r0);
      });

      test('a transaction that only compares still sees every write acknowledged before it', async () => {
        // etcd serves a transaction without operations from the local member, unless told otherwise:
        // a follower that lags then answers from the past. Many rounds make a lag near-certain.
        const { store: a, p, other } = await setup();
        const b = await other();
        const stale: string[] = [];
        for (let i = 0; i < 150; i++) {
          const [writer, checker] = i % 2 === 0 ? [a, b] : [b, a];
          const key = `${p}${i}`;
          const rev = await write(writer, put(key, 'v'));
          const res = await checker.txn({
            compare: [{ key, target: 'mod', op: '=', value: rev }],
            success: [],
          });
          if (!res.succeeded || res.revision < rev)
            stale.push(`${i}: wrote at ${rev}, compared at ${res.revision}`);
        }
        assert.deepEqual(stale, []);
      });

      test('two instances share one revision sequence and read each other’s writes at once', async () => {
        const { store: a, p, other } = await setup();
        const b = await other();
        let last = 0;
        for (let i = 0; i < 6; i++) {
          const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
          const rev = await write(writer, put(`${p}k`, String(i)));
          assert.ok(rev > last);
          last = rev;
          const kv = await reader.get(`${p}k`);
          assert.equal(kv?.value, String(i));
          assert.equal(kv?.modRevision, rev);
          assert.ok((await reader.range(p)).revision >= rev);
        }
      });
    });

    void describe('leases', () => {
      test('a granted lease is live and honours at least the requested TTL', async () => {
        const { store, lease } = await setup();
        const l = await lease();
        assert.equal(typeof l.id, 'string');
        assert.ok(l.id.length > 0);
        assert.ok(l.ttlMs >= Math.max(1000, store.profile.minLeaseTtlMs));
        assert.equal(l.lost, false);
        assert.ok(l.safeUntil > Date.now());
        const l2 = await lease();
        assert.notEqual(l2.id, l.id);
      });

      test('keys carry their lease; revoke deletes them at once and leaves others', async () => {
        const { store, p, lease, other } = await setup();
        const l = await lease();
        await write(store, put(`${p}a`, '1', l.id), put(`${p}b`, '1', l.id), put(`${p}free`, '1'));
        assert.equal((await store.get(`${p}a`))?.lease, l.id);
        assert.equal((await store.get(`${p}free`))?.lease, undefined);
        assert.equal((await (await other()).get(`${p}b`))?.lease, l.id);
        await l.revoke();
        assert.equal(l.lost, true);
        assert.equal(l.safeUntil, 0);
        assert.deepEqual(
          (await store.range(p)).kvs.map((kv) => kv.key),
          [`${p}free`],
        );
      });

      test('any instance can revoke a lease by id: its keys vanish at once and its holder loses it', async () => {
        const { store, p, lease, other } = await setup();
        const l = await lease();
        const lost: Error[] = [];
        l.on('lost', (err) => lost.push(err));
        await write(store, put(`${p}a`, '1', l.id), put(`${p}free`, '1'));
        const revoker = await other();
        await revoker.revokeLease(l.id);
        // At once for every reader, with no wait for a TTL.
        assert.equal(await revoker.get(`${p}a`), undefined);
        assert.equal(await store.get(`${p}a`), undefined);
        assert.equal((await store.get(`${p}free`))?.value, '1');
        await assert.rejects(write(store, put(`${p}again`, '1', l.id)), LeaseLostError);
        // The holder learns at its next keep-alive, well inside the TTL.
        await waitFor('the holder to see its lease lost', () => lost.length > 0, l.ttlMs * 2);
        assert.equal(l.lost, true);
        assert.ok(lost[0] instanceof LeaseLostError, `lost with ${String(lost[0])}`);
        // A lease already gone is no error, from either instance.
        await revoker.revokeLease(l.id);
        await store.revokeLease(l.id);
        assert.equal(lost.length, 1);
      });

      test('a lease revoked by its holder fires no lost event: nothing was lost', async () => {
        const { lease } = await setup();
        const l = await lease();
        let lost = 0;
        l.on('lost', () => lost++);
        await l.revoke();
        assert.equal(l.lost, true);
        await sleep(l.ttlMs / 2);
        assert.equal(lost, 0);
      });

      test('a lease revoked by id from its own instance fires lost once', async () => {
        const { store, p, lease } = await setup();
        const l = await lease();
        const lost: Error[] = [];
        l.on('lost', (err) => lost.push(err));
        await write(store, put(`${p}k`, '1', l.id));
        await store.revokeLease(l.id);
        assert.equal(await store.get(`${p}k`), undefined);
        await waitFor('the lost event', () => lost.length > 0, l.ttlMs * 2);
        await sleep(l.ttlMs / 2);
        assert.equal(lost.length, 1);
      });

      test('a put without a lease detaches the key from its lease', async () => {
        const { store, p, lease } = await setup();
        const l = await lease();
        await write(store, put(`${p}k`, '1', l.id));
        await write(store, put(`${p}k`, '2'));
        assert.equal((await store.get(`${p}k`))?.lease, undefined);
        await l.revoke();
        assert.equal((await store.get(`${p}k`))?.value, '2');
      });

      test('a put under a dead lease fails and writes nothing of its transaction', async () => {
        const { store, p, lease } = await setup();
        const l = await lease();
        await l.revoke();
        const before = (await store.range(p)).revision;
        await assert.rejects(
          store.txn({ compare: [], success: [put(`${p}free`, '1'), put(`${p}leased`, '1', l.id)] }),
          LeaseLostError,
        );
        assert.deepEqual((await store.range(p)).kvs, []);
        assert.equal((await store.range(p)).revision, before);
      });

      test('keep-alive keeps a lease and its keys alive over several TTLs', async () => {
        const { store, p, lease } = await setup();
        const l = await lease();
        let renewals = 0;
        let lostEvents = 0;
        l.on('renewed', () => renewals++);
        l.on('lost', () => lostEvents++);
        await write(store, put(`${p}k`, '1', l.id));
        await sleep(l.ttlMs * 3);
        assert.equal(l.lost, false);
        assert.equal(lostEvents, 0);
        assert.ok(renewals >= 3, `only ${renewals} renewals in three TTLs`);
        assert.ok(l.safeUntil > Date.now());
        assert.equal((await store.get(`${p}k`))?.lease, l.id);
      });

      test('a released lease runs out after its TTL and its keys vanish', async () => {
        const { store, p, lease, other } = await setup();
        const l = await lease();
        await write(store, put(`${p}k`, '1', l.id), put(`${p}free`, '1'));
        l.release();
        const watcher = await other();
        await waitFor(
          'the leased key to vanish',
          async () => (await watcher.get(`${p}k`)) === undefined,
          l.ttlMs * 4 + 10_000,
        );
        assert.equal((await store.get(`${p}free`))?.value, '1');
        await assert.rejects(write(store, put(`${p}again`, '1', l.id)), LeaseLostError);
      });

      test('a holder that misses its keep-alives past the TTL gets one lost event, and its keys go', async () => {
        const { store, p, lease, other } = await setup();
        const l = await lease();
        const lost: Error[] = [];
        l.on('lost', (err) => lost.push(err));
        await write(store, put(`${p}k`, '1', l.id));
        // A pause longer than the TTL, as a stopped or swapping process would suffer.
        blockEventLoop(l.ttlMs + 500);
        await waitFor('the lost event', () => lost.length > 0, l.ttlMs * 4 + 10_000);
        assert.equal(l.lost, true);
        assert.equal(l.safeUntil, 0);
        assert.ok(lost[0] instanceof LeaseLostError, `lost with ${String(lost[0])}`);
        const observer = await other();
        await waitFor(
          'the leased key to vanish',
          async () => (await observer.get(`${p}k`)) === undefined,
          l.ttlMs * 4 + 10_000,
        );
        await sleep(l.ttlMs);
        assert.equal(lost.length, 1);
      });
    });

    void describe('watch', () => {
      test('replays history from a past revision, in revision order', async () => {
        const { store, p } = await setup();
        const r1 = await write(store, put(`${p}a`, '1'));
        const r2 = await write(store, put(`${p}b`, '1'));
        const r3 = await write(store, put(`${p}a`, '2'));
        const r4 = await write(store, del(`${p}b`));
        const r5 = await write(store, put(`${p}c`, '1'), put(`${p}d`, '1'));
        const c = new Collector();
        const w = store.watch(p, r2, c);
        await c.reach(r5);
        await w.close();
        assert.deepEqual(
          c.batches.map((b) => b.revision),
          [r2, r3, r4, r5],
        );
        assert.ok(r1 < r2);
        const summary = c.events.map((e) => [e.type, e.kv.key, e.kv.value, e.kv.modRevision]);
        assert.deepEqual(summary, [
          ['put', `${p}b`, '1', r2],
          ['put', `${p}a`, '2', r3],
          ['delete', `${p}b`, '', r4],
          ['put', `${p}c`, '1', r5],
          ['put', `${p}d`, '1', r5],
        ]);
        const a2 = c.events[1]!.kv;
        assert.equal(a2.createRevision, r1);
        assert.equal(a2.version, 2);
        assert.deepEqual(c.errors, []);
      });

      test('delivers changes made after the watch started', async () => {
        const { store, p } = await setup();
        await write(store, put(`${p}before`, '1'));
        const from = (await store.range(p)).revision + 1;
        const c = new Collector();
        const w = store.watch(p, from, c);
        const r1 = await write(store, put(`${p}k`, '1'));
        const r2 = await write(store, put(`${p}k`, '2'));
        await c.reach(r2);
        await w.close();
        assert.deepEqual(
          c.events.map((e) => [e.type, e.kv.key, e.kv.value, e.kv.modRevision, e.kv.version]),
          [
            ['put', `${p}k`, '1', r1, 1],
            ['put', `${p}k`, '2', r2, 2],
          ],
        );
      });

      test('groups one transaction’s events into one batch, in operation order', async () => {
        const { store, p } = await setup();
        const from = (await write(store, put(`${p}z`, '0'))) + 1;
        const c = new Collector();
        const w = store.watch(p, from, c);
        const rev = await write(store, put(`${p}y`, '1'), put(`${p}x`, '1'), del(`${p}z`));
        await c.reach(rev);
        await w.close();
        assert.equal(c.batches.length, 1);
        const batch = c.batches[0]!;
        assert.equal(batch.revision, rev);
        assert.deepEqual(
          batch.events.map((e) => [e.type, e.kv.key, e.kv.modRevision]),
          [
            ['put', `${p}y`, rev],
            ['put', `${p}x`, rev],
            ['delete', `${p}z`, rev],
          ],
        );
      });

      test('delivers only keys under its prefix', async () => {
        const { store, p } = await setup();
        const from = (await store.range(p)).revision + 1;
        const c = new Collector();
        const w = store.watch(`${p}w/`, from, c);
        const mixed = await write(store, put(`${p}w/a`, '1'), put(`${p}wx`, '1'), put(`${p}v/a`, '1'));
        await write(store, put(`${p}w`, '1'));
        await write(store, put(`${p}x/w/a`, '1'));
        const last = await write(store, put(`${p}w/b/c`, '1'));
        await c.reach(last);
        await w.close();
        assert.deepEqual(
          c.batches.map((b) => [b.revision, b.events.map((e) => e.kv.key)]),
          [
            [mixed, [`${p}w/a`]],
            [last, [`${p}w/b/c`]],
          ],
        );
      });

      test('delivers the deletes of revoked and expired leases', async () => {
        const { store, p, lease } = await setup();
        const revoked = await lease();
        const expiring = await lease();
        await write(store, put(`${p}r1`, '1', revoked.id), put(`${p}r2`, '1', revoked.id));
        const from = await write(store, put(`${p}e`, '1', expiring.id));
        const c = new Collector();
        const w = store.watch(p, from + 1, c);
        await revoked.revoke();
        expiring.release();
        const expired = await c.waitForEvent(
          'the delete of the expired lease’s key',
          (e) => e.type === 'delete' && e.kv.key === `${p}e`,
          expiring.ttlMs * 4 + 10_000,
        );
        await w.close();
        const deletes = c.batches.map((b) => [b.events.map((e) => `${e.type} ${e.kv.key}`), b.revision]);
        assert.equal(deletes.length, 2, JSON.stringify(deletes));
        // A lease's keys go in one revision, as one batch.
        assert.deepEqual(deletes[0]![0], [`delete ${p}r1`, `delete ${p}r2`]);
        assert.deepEqual(deletes[1]![0], [`delete ${p}e`]);
        assert.equal(expired.kv.value, '');
        assert.equal(expired.kv.modRevision, c.batches[1]!.revision);
      });

      test('close stops delivery to that watcher only', async () => {
        const { store, p } = await setup();
        const from = (await store.range(p)).revision + 1;
        const closing = new Collector();
        const staying = new Collector();
        const w1 = store.watch(p, from, closing);
        const w2 = store.watch(p, from, staying);
        const r1 = await write(store, put(`${p}k`, '1'));
        await closing.reach(r1);
        await w1.close();
        await w1.close();
        const r2 = await write(store, put(`${p}k`, '2'));
        await staying.reach(r2);
        // The staying watcher has seen r2, so the closed one would have had it by now.
        await sleep(100);
        await w2.close();
        assert.deepEqual(
          closing.batches.map((b) => b.revision),
          [r1],
        );
        assert.deepEqual(
          staying.batches.map((b) => b.revision),
          [r1, r2],
        );
        assert.deepEqual([...closing.errors, ...staying.errors], []);
      });

      test('a watcher on one instance sees the other instance’s writes, both ways', async () => {
        const { store: a, p, other } = await setup();
        const b = await other();
        const from = (await a.range(p)).revision + 1;
        const onA = new Collector();
        const onB = new Collector();
        const wa = a.watch(p, from, onA);
        const wb = b.watch(p, from, onB);
        const r1 = await write(b, put(`${p}from-b`, '1'));
        const r2 = await write(a, put(`${p}from-a`, '1'));
        await onA.reach(r2);
        await onB.reach(r2);
        await wa.close();
        await wb.close();
        const expected = [
          [r1, `${p}from-b`],
          [r2, `${p}from-a`],
        ];
        const seen = (c: Collector) => c.events.map((e) => [e.kv.modRevision, e.kv.key]);
        assert.deepEqual(seen(onA), expected);
        assert.deepEqual(seen(onB), expected);
      });

      test('revisions arrive strictly increasing under a burst of writes from two instances', async () => {
        const { store: a, p, other } = await setup();
        const b = await other();
        const from = (await a.range(p)).revision + 1;
        const c = new Collector();
        const w = a.watch(p, from, c);
        const revs = await Promise.all(
          Array.from({ length: 40 }, (_, i) => write(i % 2 === 0 ? a : b, put(`${p}${i % 5}`, String(i)))),
        );
        await c.reach(Math.max(...revs));
        await w.close();
        const seen = c.batches.map((batch: WatchBatch) => batch.revision);
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!);
        assert.deepEqual(
          [...seen].sort((x, y) => x - y),
          [...revs].sort((x, y) => x - y),
        );
      });
    });

    void describe('concurrency', () => {
      test('20 racers on create == 0 from two instances: exactly one wins', async () => {
        const { store: a, p, other } = await setup();
        const b = await other();
        const k = `${p}master`;
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? a : b).txn({
              compare: [{ key: k, target: 'create', op: '=', value: 0 }],
              success: [put(k, `racer-${i}`)],
            }),
          ),
        );
        const winners = results.flatMap((r, i) => (r.succeeded ? [i] : []));
        assert.equal(winners.length, 1, `winners: ${winners.join(',')}`);
        const kv = await b.get(k);
        assert.equal(kv?.value, `racer-${winners[0]}`);
        assert.equal(kv?.version, 1);
        assert.equal(kv?.modRevision, results[winners[0]!]!.revision);
      });

      test('compare-and-swap increments from two instances are never lost', async () => {
        const { store: a, p, other } = await setup();
        const b = await other();
        const k = `${p}counter`;
        await write(a, put(k, '0'));
        const increment = async (store: Store): Promise<void> => {
          for (;;) {
            const kv = (await store.get(k))!;
            const res = await store.txn({
              compare: [{ key: k, target: 'mod', op: '=', value: kv.modRevision }],
              success: [put(k, String(Number(kv.value) + 1))],
            });
            if (res.succeeded) return;
          }
        };
        const worker = async (store: Store): Promise<void> => {
          for (let i = 0; i < 5; i++) await increment(store);
        };
        await Promise.all([a, a, a, b, b, b].map(worker));
        const kv = await a.get(k);
        assert.equal(kv?.value, '30');
        assert.equal(kv?.version, 31);
      });
    });

    void describe('close', () => {
      test('a closed store rejects calls with StoreClosedError; others are unaffected', async () => {
        const { store, p, other } = await setup();
        const closing = await other();
        await write(closing, put(`${p}k`, '1'));
        await closing.close();
        await closing.close();
        await assert.rejects(closing.get(`${p}k`), StoreClosedError);
        await assert.rejects(closing.range(p), StoreClosedError);
        await assert.rejects(write(closing, put(`${p}k`, '2')), StoreClosedError);
        await assert.rejects(closing.grantLease(1000), StoreClosedError);
        assert.throws(() => closing.watch(p, 1, new Collector()), StoreClosedError);
        assert.equal((await store.get(`${p}k`))?.value, '1');
      });
    });
  });
}
