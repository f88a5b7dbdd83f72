import { defineFastFailoverSuite } from './fast-failover-suite.js';

// Each cluster gets a fresh SQLite file in its own temp folder (the default of ProcessCluster). The
// embedded store has no network to partition: the partition case runs on etcd only.
defineFastFailoverSuite('sqlite', { url: async () => undefined, cleanup: async () => undefined });
