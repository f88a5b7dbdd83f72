import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { defineCompatSuite } from './compat-suite.js';

// A real 3-member etcd on loopback; the cluster gets a key prefix of its own.
let etcd: EtcdCluster | undefined;

defineCompatSuite('etcd', {
  url: async () => {
    etcd = await EtcdCluster.start({ size: 3 });
    return etcd.url(`/bosun-compat-${process.pid}`);
  },
  cleanup: async () => {
    await etcd?.stop();
    etcd = undefined;
  },
});
