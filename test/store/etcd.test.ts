/**
 * The conformance suite on a real 3-member etcd (started once for the file), through the store URL
 * as a node would open it.
 */
import { after, before } from 'node:test';

import { openStore } from '../../src/store/open-store.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { defineStoreConformance } from './conformance.js';

let cluster: EtcdCluster | undefined;

before(async () => {
  cluster = await EtcdCluster.start({ size: 3 });
});

after(async () => {
  await cluster?.stop();
});

defineStoreConformance('etcd (3 members)', async () => {
  if (!cluster) throw new Error('the etcd cluster did not start');
  // The cluster's 500 ms election timeout lets etcd grant 1 s leases.
  const store = await openStore(cluster.url('/bosun-conformance'), { minLeaseTtlMs: 1000 });
  return { store, cleanup: () => store.close() };
});
