import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { defineClusterSuite } from './cluster-suite.js';

// One real 3-member etcd on loopback for the whole file; every cluster gets a key prefix of its own.
let etcd: EtcdCluster | undefined;
let clusters = 0;

defineClusterSuite('etcd', {
  url: async () => {
    etcd ??= await EtcdCluster.start({ size: 3 });
    clusters++;
    return etcd.url(`/bosun-test-${process.pid}-${clusters}`);
  },
  cleanup: async () => {
    await etcd?.stop();
    etcd = undefined;
  },
});
