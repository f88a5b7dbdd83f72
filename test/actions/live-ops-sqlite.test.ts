import { defineLiveOpsSuite } from './live-ops-suite.js';

// A fresh SQLite file in each cluster's own temp folder (ProcessCluster's default).
defineLiveOpsSuite('sqlite', { url: async () => undefined, cleanup: async () => undefined });
