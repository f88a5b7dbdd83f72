import { defineStreamSuite } from './stream-suite.js';

defineStreamSuite('sqlite', { url: async () => undefined, cleanup: async () => undefined });
