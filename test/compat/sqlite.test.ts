import { defineCompatSuite } from './compat-suite.js';

// A fresh SQLite file in the cluster's own temp folder (ProcessCluster's default).
defineCompatSuite('sqlite', { url: async () => undefined, cleanup: async () => undefined });
