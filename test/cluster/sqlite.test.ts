import { defineClusterSuite } from './cluster-suite.js';

// Each cluster gets a fresh SQLite file in its own temp folder (the default of ProcessCluster).
defineClusterSuite('sqlite', { url: async () => undefined, cleanup: async () => undefined });
