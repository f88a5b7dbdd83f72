/**
 * The CLI's parts of issue 10 against a real cluster: `--dry-run` prints the preflight as a table
 * (exit 0 on go, 1 on no-go, nothing started), `--idempotency-key` makes a retried start return the
 * first run, and `actions list` filters and pages the history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/in-process-node.js';
import { ProcessCluster, waitForRun, type ClusterNode } from '../helpers/process-cluster.js';
import { runCli, show, type CliResult } from './support.js';

describe('bosun CLI: dry run, idempotency key, history search', { timeout: 180_000 }, () => {
  let cluster: ProcessCluster;
  let node1: ClusterNode;
  let env: Record<string, string>;
  const bosun = (args: string[]): Promise<CliResult> => runCli(args, env);
  const other = async (): Promise<number> => {
    const m = await cluster.waitForAgreedMaster();
    return cluster.nodes.find((n) => n.uid !== m)!.uid;
  };

  before(async () => {
    cluster = await ProcessCluster.start({ nodes: 3 });
    node1 = cluster.node(1);
    env = { BOSUN_URL: node1.url, BOSUN_USER: ADMIN_EMAIL, BOSUN_PASSWORD: ADMIN_PASSWORD };
  });
  after(async () => {
    await cluster?.destroy();
  });

  it('cluster master set --dry-run: the checks as a table and the verdict; nothing started', async () => {
    const target = await other();
    const r = await bosun(['cluster', 'master', 'set', String(target), '--dry-run']);
    assert.equal(r.code, 0, show(r));
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^CHECK\s+RESULT\s+MESSAGE$/);
    for (const name of [
      'target_active',
      'target_lease_fresh',
      'store_quorum',
      'no_run_in_flight',
      'requester_permission',
    ]) {
      assert.ok(
        lines.some((l) => new RegExp(`^${name}\\s+pass\\s+\\S`).test(l)),
        `${name}:\n${show(r)}`,
      );
    }
    assert.match(r.stdout, /change_master: go \(dry run; nothing was started\)/);
    assert.equal((await node1.get('/v1/cluster/actions/change_master')).status, 404, 'no run');
  });

  it('--dry-run to a node that does not exist: no-go, exit 1, the failed checks named', async () => {
    const r = await bosun(['cluster', 'master', 'set', '99', '--dry-run']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^target_active\s+FAIL\s+Node 99 does not exist\./m);
    assert.match(r.stdout, /change_master: no-go/);
    assert.match(r.stderr, /^bosun: change_master would not go: target_active, target_lease_fresh failed$/m);
    const json = await bosun([
      'actions',
      'start',
      'change_master',
      '--arg',
      'node_uid=99',
      '--dry-run',
      '-o',
      'json',
    ]);
    assert.equal(json.code, 1, show(json));
    const body = JSON.parse(json.stdout) as { verdict: string; checks: unknown[] };
    assert.equal(body.verdict, 'no-go');
    assert.equal(body.checks.length, 5);
  });

  it('--idempotency-key: the retry prints the first run', async () => {
    const target = await other();
    const args = [
      'cluster',
      'master',
      'set',
      String(target),
      '--idempotency-key',
      'cli-key-1',
      '--no-wait',
      '-o',
      'json',
    ];
    const first = await bosun(args);
    assert.equal(first.code, 0, show(first));
    const uid = (JSON.parse(first.stdout) as { action_uid: string }).action_uid;
    const again = await bosun(args);
    assert.equal(again.code, 0, show(again));
    assert.equal((JSON.parse(again.stdout) as { action_uid: string }).action_uid, uid);
    await waitForRun(node1, uid);
    const other422 = await bosun([
      'actions',
      'start',
      'change_master',
      '--arg',
      'node_uid=1',
      '--idempotency-key',
      'cli-key-1',
    ]);
    assert.equal(other422.code, 1, show(other422));
    assert.match(other422.stderr, /idempotency_key_reused/);
  });

  it('actions list --name --newest-first --limit: one page and the command for the next', async () => {
    const target = await other();
    const started = await bosun(['cluster', 'master', 'set', String(target)]);
    assert.equal(started.code, 0, show(started));
    const all = (await node1.get<{ actions: { action_uid: string }[] }>('/v1/actions')).body.actions;
    assert.ok(all.length >= 2);
    const r = await bosun([
      'actions',
      'list',
      '--name',
      'change_master',
      '--newest-first',
      '--limit',
      '1',
      '-o',
      'json',
    ]);
    assert.equal(r.code, 0, show(r));
    const page = JSON.parse(r.stdout) as { action_uid: string }[];
    assert.deepEqual(
      page.map((a) => a.action_uid),
      [all.at(-1)!.action_uid],
    );
    const text = await bosun(['actions', 'list', '--name', 'change_master', '--limit', '1']);
    assert.match(text.stderr, /^more: bosun actions list \.\.\. --cursor [A-Za-z0-9_-]+$/m);
    const bad = await bosun(['actions', 'list', '--limit', '0']);
    assert.equal(bad.code, 1, show(bad));
    assert.match(bad.stderr, /invalid_schema/);
  });
});
