/**
 * `bosun logs`: prints the cluster event log, honours its filters, refuses bad times, and with
 * --follow prints each new event once, as it happens, until Ctrl-C. Against a real node over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  adminAuth,
  startTestNode,
  type TestNode,
} from '../helpers/in-process-node.js';
import { runCli, show, startCli } from './support.js';

describe('bosun logs', { timeout: 60_000 }, () => {
  let t: TestNode;
  let env: Record<string, string>;

  before(async () => {
    t = await startTestNode();
    env = {
      BOSUN_URL: `http://127.0.0.1:${t.node.httpAddress()!.port}`,
      BOSUN_USER: ADMIN_EMAIL,
      BOSUN_PASSWORD: ADMIN_PASSWORD,
    };
    // The node's own first entries (joined, master) are written a moment after it starts.
    for (let i = 0; i < 200; i++) {
      const res = await t.node.app.inject({
        method: 'GET',
        url: '/v1/logs',
        headers: { authorization: adminAuth },
      });
      if (res.json<unknown[]>().length >= 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  });
  after(async () => {
    await t?.stop();
  });

  it('prints one line per event: time, severity, type and fields', async () => {
    const r = await runCli(['logs'], env);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^\d{4}-\d{2}-\d{2}T\S+Z {2}INFO {5}cluster_node_joined {2}node_uid=1$/m);
    assert.match(r.stdout, /master_changed .*epoch=1 .*cause=initial/);
  });

  it('-o json with --order desc --limit 1: the newest event only', async () => {
    const all = JSON.parse((await runCli(['logs', '-o', 'json'], env)).stdout) as { type: string }[];
    const r = await runCli(['logs', '-o', 'json', '--order', 'desc', '--limit', '1'], env);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout), [all.at(-1)]);
  });

  it('a bad time or order is a usage error (exit 2)', async () => {
    for (const args of [
      ['--since', 'yesterday'],
      ['--until', '2026-99-99'],
      ['--order', 'up'],
      ['--limit', '0'],
    ]) {
      const r = await runCli(['logs', ...args], env);
      assert.equal(r.code, 2, show(r));
    }
  });

  it('--follow prints new events once each, as they happen, until Ctrl-C', async () => {
    const before = JSON.parse((await runCli(['logs', '-o', 'json'], env)).stdout) as unknown[];
    const run = startCli(['logs', '--follow', '--interval', '100', '-o', 'json'], env);
    let stdout = '';
    run.proc.stdout!.on('data', (d: string) => (stdout += d));
    const lines = async () =>
      stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { type: string; email?: string });
    for (let i = 0; i < 200 && (await lines()).length < before.length; i++)
      await new Promise((r) => setTimeout(r, 25));
    for (const email of ['follow1@test.local', 'follow2@test.local']) {
      const res = await t.node.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: { authorization: adminAuth },
        payload: { email, password: 'Password-123', role: 'db_viewer' },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    for (let i = 0; i < 400; i++) {
      if ((await lines()).filter((l) => l.type === 'user_created').length >= 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 300)); // a few more polls: nothing may repeat
    run.proc.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.code, 0, show(result));
    const printed = await lines();
    const created = printed.filter((l) => l.type === 'user_created').map((l) => l.email);
    assert.deepEqual(created, ['follow1@test.local', 'follow2@test.local']);
    assert.equal(printed.length, before.length + 2, 'each event once');
  });
});
