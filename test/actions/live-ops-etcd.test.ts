import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { defineLiveOpsSuite } from './live-ops-suite.js';

// A real 3-member etcd on loopback; each cluster gets a key prefix of its own.
let etcd: EtcdCluster | undefined;
let clusters = 0;

defineLiveOpsSuite('etcd', {
  url: async () => {
    etcd ??= await EtcdCluster.start({ size: 3 });
    return etcd.url(`/bosun-live-ops-${process.pid}-${++clusters}`);
  },
  // Two of three members paused: no quorum until they resume.
  loseQuorum: async () => {
    const followers = await etcd!.followers();
    await Promise.all(followers.map((m) => m.pause()));
    return async () => {
      await Promise.all(followers.map((m) => m.resume()));
      await etcd!.waitHealthy();
    };
  },
  cleanup: async () => {
    await etcd?.stop();
    etcd = undefined;
  },
});
