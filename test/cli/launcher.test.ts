/**
 * `bosun start`, the local-cluster launcher, when a node cannot start: the terminal says which node
 * and why, in one line, not only the node's log file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { freePort } from '../helpers/ports.js';
import { runCli, show } from './support.js';

void describe('bosun start', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-launcher-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('prints why a node failed to start, in one line, and stops', async () => {
    const r = await runCli([
      'start',
      '--nodes',
      '2',
      '--data-dir',
      dir,
      // A store no node can open: its folder would have to live under a file.
      '--store',
      'sqlite:/dev/null/bosun.db',
      '--http-port',
      String(await freePort()),
      '--https-port',
      String(await freePort()),
    ]);
    assert.equal(r.code, 1, show(r));
    const line = /^bosun: node \d failed to start: (.+)$/m.exec(r.stdout);
    assert.ok(line, show(r));
    assert.match(line[1]!, /\/dev\/null/);
    assert.doesNotMatch(r.stdout, /bosun: ready/);
  });
});
