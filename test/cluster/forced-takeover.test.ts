/**
 * MasterRole.forceTakeOver in-process, on each real store (a SQLite file, a 1-member etcd): races,
 * fencing of a live old master, and the evidence compares. The process-level behaviour (who decides,
 * and when) is in fast-failover-suite.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';

import { pino } from 'pino';

import { ClusterKeys } from '../../src/cluster/keys.js';
import { MasterRole } from '../../src/cluster/master.js';
import { NotMasterError } from '../../src/errors/domain.js';
import { Membership } from '../../src/cluster/membership.js';
import type { MasterRecord } from '../../src/cluster/keys.js';
import { ClusterView } from '../../src/cluster/view.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { testNodeRecord } from '../helpers/node-record.js';
import { eventually } from '../helpers/process-cluster.js';

const log = pino({ level: 'silent' });
const TTL_MS = 10_000;

interface Member {
  store: Store;
  view: ClusterView;
  membership: Membership;
  master: MasterRole;
}

let etcd: EtcdCluster | undefined;
after(() => etcd?.stop());

for (const backend of ['sqlite', 'etcd'] as const) {
  describe(`forced take-over (${backend})`, { timeout: 120_000 }, () => {
    const members: Member[] = [];
    const dirs: string[] = [];
    let url = '';
    let seq = 0;
    const keys = new ClusterKeys('/ff/');

    async function freshCluster(): Promise<void> {
      if (backend === 'sqlite') {
        const dir = await mkdtemp(join(tmpdir(), 'bosun-ff-'));
        dirs.push(dir);
        url = `sqlite:${join(dir, 'store.db')}`;
      } else {
        etcd ??= await EtcdCluster.start({ size: 1 });
        url = etcd.url(`/ff-${process.pid}-${++seq}`);
      }
    }

    async function joinNode(uid: number): Promise<Member> {
      const store = await openStore(url);
      const view = new ClusterView(store, keys.prefix, log);
      await view.start();
      const membership = new Membership(store, keys, testNodeRecord(uid), TTL_MS, log);
      const master = new MasterRole(store, view, keys, membership, log);
      await membership.join();
      master.start();
      const m = { store, view, membership, master };
      members.push(m);
      return m;
    }

    /** Waits until every member's view shows the master key at `token`. */
    async function allSee(token: number): Promise<void> {
      await eventually(() =>
        members.every((m) => m.view.get(keys.master.key)?.modRevision === token) ? true : undefined,
      );
    }

    afterEach(async () => {
      for (const m of members.splice(0)) {
        m.master.stop();
        await m.membership.leave();
        await m.view.close();
        await m.store.close();
      }
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    });

    it('two nodes forcing out the same master: exactly one wins, and the dead lease is revoked', async () => {
      await freshCluster();
      const a = await joinNode(1);
      const term = await eventually(() => a.master.term);
      const b = await joinNode(2);
      const c = await joinNode(3);
      await allSee(term.token);
      // A "dies": it stops acting and renewing, but its lease lives on the server for the TTL.
      a.master.stop();
      a.membership.lease!.release();
      const forced = { signal: 'process_gone', from_token: term.token } as const;
      const results = await Promise.all([
        b.master.forceTakeOver(term.token, forced),
        c.master.forceTakeOver(term.token, forced),
      ]);
      assert.equal(results.filter(Boolean).length, 1, `exactly one winner: ${JSON.stringify(results)}`);
      const winner = results[0] ? b : c;
      const loser = results[0] ? c : b;
      assert.equal(winner.master.isMaster, true);
      assert.equal(loser.master.isMaster, false);
      const kv = await b.store.get(keys.master.key);
      const rec = JSON.parse(kv!.value) as MasterRecord;
      assert.equal(rec.node_uid, winner.membership.uid);
      assert.equal(rec.epoch, term.epoch + 1);
      assert.deepEqual(rec.forced, forced);
      assert.equal(rec.previous?.node_uid, 1);
      // The dead master's liveness record went with its lease, long before the TTL.
      await eventually(
        async () => ((await b.store.get(keys.node(1).key)) === undefined ? true : undefined),
        TTL_MS / 2,
      );
      // The old token can never be forced out twice.
      await allSee(kv!.modRevision);
      assert.equal(await loser.master.forceTakeOver(term.token, forced), false);
      assert.equal((await b.store.get(keys.master.key))?.modRevision, kv!.modRevision);
    });

    it('fences a live master that was wrongly judged dead: its next write fails and it steps down', async () => {
      await freshCluster();
      const a = await joinNode(1);
      const term = await eventually(() => a.master.term);
      const b = await joinNode(2);
      await allSee(term.token);
      assert.equal(
        await b.master.forceTakeOver(term.token, { signal: 'port_refused', from_token: term.token }),
        true,
      );
      await assert.rejects(
        a.master.fencedTxn(
          { compare: [], success: [{ type: 'put', key: `${keys.prefix}probe`, value: 'stale' }] },
          term,
        ),
        NotMasterError,
      );
      assert.equal(await b.store.get(`${keys.prefix}probe`), undefined, 'the old master wrote nothing');
      await eventually(() => (a.master.isMaster ? undefined : true));
      // Its lease was revoked with it; it rejoins as an ordinary member.
      await eventually(() => a.membership.lease);
      assert.equal(a.master.isMaster, false);
    });

    it('takes over only while the evidence it names still holds', async () => {
      await freshCluster();
      const a = await joinNode(1);
      const term = await eventually(() => a.master.term);
      const b = await joinNode(2);
      await allSee(term.token);
      const suspicion = keys.suspicion(2).key;
      const put = await b.store.txn({ compare: [], success: [{ type: 'put', key: suspicion, value: '{}' }] });
      // Withdrawn before the take-over: the compare on its revision fails, and nothing changes.
      await b.store.txn({ compare: [], success: [{ type: 'delete', key: suspicion }] });
      const evidence = [{ key: suspicion, target: 'mod', op: '=', value: put.revision }] as const;
      assert.equal(
        await b.master.forceTakeOver(term.token, { signal: 'port_refused', from_token: term.token }, [
          ...evidence,
        ]),
        false,
      );
      assert.equal((await b.store.get(keys.master.key))?.modRevision, term.token);
      assert.equal(a.master.isMaster, true);
    });
  });
}
