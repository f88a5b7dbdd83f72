import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { defineStoreConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'bosun-sqlite-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Every instance opens the same file, as the node processes of one host do.
defineStoreConformance('sqlite', async () => {
  const store = new SqliteStore({ path: join(dir, 'store.db') });
  return { store, cleanup: () => store.close() };
});
