import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { defineStreamSuite } from './stream-suite.js';

let etcd: EtcdCluster | undefined;

defineStreamSuite('etcd', {
  url: async () => {
    etcd = await EtcdCluster.start({ size: 1 });
    return etcd.url(`/bosun-stream-${process.pid}`);
  },
  cleanup: async () => {
    await etcd?.stop();
    etcd = undefined;
  },
});
