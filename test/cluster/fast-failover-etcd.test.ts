import assert from 'node:assert/strict';
import { it } from 'node:test';

import type { ActionRun } from '../../src/actions/run.js';
import type { MasterRecord } from '../../src/cluster/keys.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import type { ProcessCluster } from '../helpers/process-cluster.js';
import { eventually, MasterSampler, waitForRun } from '../helpers/process-cluster.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { defineFastFailoverSuite } from './fast-failover-suite.js';

// One real 3-member etcd on loopback for the whole file; every cluster gets a key prefix of its own.
let etcd: EtcdCluster | undefined;
let clusters = 0;
const prefix = (): string => `/bosun-ff-${process.pid}-${++clusters}`;

defineFastFailoverSuite('etcd', {
  url: async () => {
    etcd ??= await EtcdCluster.start({ size: 3 });
    return etcd.url(prefix());
  },
  cleanup: async () => {
    await etcd?.stop();
    etcd = undefined;
  },
  extra: (ctx) => {
    it('waits out the lease of a master cut off from etcd: a timeout is never death', async () => {
      etcd ??= await EtcdCluster.start({ size: 3 });
      const member = etcd.members[0]!;
      const [host, port] = member.endpoint.split(':');
      const proxy = await TcpProxy.start({ host: host!, port: Number(port) });
      try {
        const p = prefix();
        const proxied = `etcd://${proxy.endpoint}?prefix=${encodeURIComponent(p)}`;
        // Registered with the suite, which destroys it after the test.
        const c: ProcessCluster = await ctx.start({
          store: etcd.url(p),
          storeFor: (uid) => (uid === 1 ? proxied : undefined),
          leaseTtlMs: 3000,
        });
        const cut = c.node(1);
        let master = await c.waitForAgreedMaster();
        if (master !== 1) {
          const res = await cut.request<ActionRun>('POST', '/v1/cluster/actions/change_master', {
            node_uid: 1,
          });
          assert.equal((await waitForRun(cut, res.body.action_uid)).status, 'completed');
          master = await c.waitForAgreedMaster();
        }
        assert.equal(master, 1);
        const before = JSON.parse((await ctx.masterKv(c))!.value) as MasterRecord;
        const sampler = ctx.track(new MasterSampler(c));
        proxy.pause('both');
        // Node 1 still answers HTTP (alive, only cut off from etcd) from a view that no longer moves:
        // ask the store itself.
        const now = await eventually(async () => {
          const kv = await ctx.masterKv(c);
          const m = kv ? (JSON.parse(kv.value) as MasterRecord) : undefined;
          return m && m.node_uid !== 1 ? m : undefined;
        }, 30_000);
        // An election after the lease ran out, not a forced take-over: node 1's process and port lived.
        assert.equal(now.forced, undefined);
        assert.equal(now.epoch, before.epoch + 1);
        proxy.resume('both');
        proxy.closeAll();
        await sampler.stop();
        assert.deepEqual(sampler.violations, []);
      } finally {
        await proxy.close();
      }
    });
  },
});
