/**
 * Issue 14, findings 5 and 10: a node's data folder is its owner's only, whatever an older version
 * or the umask left behind; the admin password leaves the environment once read.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { takeSecretFromEnv } from '../../src/node/secret-env.js';
import { startTestNode } from '../helpers/in-process-node.js';

function walk(dir: string, out: { path: string; dir: boolean }[] = []): { path: string; dir: boolean }[] {
  out.push({ path: dir, dir: true });
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push({ path: p, dir: false });
  }
  return out;
}

describe('the data folder is owner-only (finding 5)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bosun-perm-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('tightens a world-readable folder and files on start, and creates new ones 0600', async () => {
    // As an older version (or a permissive umask) left it.
    chmodSync(dataDir, 0o755);
    mkdirSync(join(dataDir, 'logs'), { mode: 0o755 });
    writeFileSync(join(dataDir, 'logs', 'node-1.log'), 'old log line\n', { mode: 0o644 });
    const t = await startTestNode({ dataDir });
    try {
      const entries = walk(dataDir);
      assert.ok(entries.some((e) => e.path.endsWith('bosun.db')));
      assert.ok(entries.some((e) => e.path.endsWith('key.pem')));
      for (const e of entries) {
        const mode = statSync(e.path).mode & 0o777;
        assert.equal(mode, e.dir ? 0o700 : 0o600, `${e.path} is ${mode.toString(8)}`);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('BOSUN_ADMIN_PASSWORD is read once (finding 10)', () => {
  it('takeSecretFromEnv returns the value and removes it from the environment', () => {
    const env: NodeJS.ProcessEnv = { BOSUN_ADMIN_PASSWORD: 's3cret-pass', OTHER: 'x' };
    assert.equal(takeSecretFromEnv(env, 'BOSUN_ADMIN_PASSWORD'), 's3cret-pass');
    assert.equal('BOSUN_ADMIN_PASSWORD' in env, false);
    assert.equal(env.OTHER, 'x');
    assert.equal(takeSecretFromEnv(env, 'BOSUN_ADMIN_PASSWORD'), undefined);
  });
});
