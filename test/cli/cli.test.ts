/**
 * The `bosun` command line end to end: the real binary, as a subprocess with pipes (not a TTY),
 * against a real 3-node cluster of `bosun node` processes. Each check compares what the CLI prints
 * with the cluster's real state, read over the API.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/in-process-node.js';
import {
  eventually,
  ProcessCluster,
  type ClusterNode,
  type NodesStatus,
} from '../helpers/process-cluster.js';
import { freePort } from '../helpers/ports.js';
import { runCli, show, startCli, type CliResult } from './support.js';

interface WireRun {
  action_uid: string;
  name: string;
  status: string;
  progress: number;
  phase?: string;
  error_code?: string;
  error_message?: string;
  outcome?: Record<string, unknown>;
}

interface WireNode {
  uid: number;
  addr: string;
  status: string;
  software_version: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

function assertPlain(r: CliResult): void {
  assert.doesNotMatch(r.stdout, CONTROL, `stdout has control characters:\n${show(r)}`);
  assert.doesNotMatch(r.stderr, CONTROL, `stderr has control characters:\n${show(r)}`);
}

function assertNoStack(r: CliResult): void {
  assert.doesNotMatch(r.stderr, /^\s+at /m, `a stack trace:\n${show(r)}`);
}

function assertOneLineError(r: CliResult, code: number): void {
  assert.equal(r.code, code, show(r));
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `not one line:\n${show(r)}`);
  assert.match(r.stderr, /^bosun: /, show(r));
  assertNoStack(r);
}

function fingerprint(cluster: ProcessCluster, uid: number): string {
  const pem = readFileSync(join(cluster.dataDir, 'nodes', String(uid), 'tls', 'cert.pem'), 'utf8');
  return new X509Certificate(pem).fingerprint256;
}

describe('bosun CLI against a real cluster', { timeout: 300_000 }, () => {
  let cluster: ProcessCluster;
  let node1: ClusterNode;
  let env: Record<string, string>;

  const bosun = (args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> =>
    runCli(args, { ...env, ...extra });

  const realMaster = async (): Promise<number> => cluster.waitForAgreedMaster();

  /** A node that is neither the master nor node 1 (which the CLI talks to). */
  const otherTarget = async (): Promise<number> => {
    const master = await realMaster();
    return cluster.nodes.find((n) => n.uid !== master && n.uid !== 1)!.uid;
  };

  before(async () => {
    // A long lease keeps a paused (SIGSTOP) target "active", so a hand-over to it waits for the
    // hand-over timeout: the run stays in flight long enough to interrupt, cancel or fail it.
    // A paused target's lease has at least two thirds of the TTL (4 s) left; the hand-over timeout must
    // fire well before that, or a paused target is "lost" rather than "too slow".
    cluster = await ProcessCluster.start({ nodes: 3, leaseTtlMs: 6000, handoverTimeoutMs: 3000 });
    node1 = cluster.node(1);
    env = { BOSUN_URL: node1.url, BOSUN_USER: ADMIN_EMAIL, BOSUN_PASSWORD: ADMIN_PASSWORD };
  });

  after(async () => {
    await cluster?.destroy();
  });

  it('status: the master header, the nodes table and the connected node match the cluster', async () => {
    const [statusRes, nodesRes] = await Promise.all([
      node1.get<NodesStatus>('/v1/nodes/status'),
      node1.get<WireNode[]>('/v1/nodes'),
    ]);
    const master = Object.entries(statusRes.body).find(([, s]) => s.role === 'master')![0];
    const masterNode = nodesRes.body.find((n) => String(n.uid) === master)!;

    const r = await bosun(['status']);
    assert.equal(r.code, 0, show(r));
    assertPlain(r);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `Cluster master: ${master} (${masterNode.addr})`);
    const header = lines.findIndex((l) => l.startsWith('NODE:ID'));
    assert.ok(header > 0, show(r));
    assert.match(lines[header]!, /NODE:ID\s+ROLE\s+ADDRESS\s+STATUS\s+VERSION\s+UPTIME/);
    for (const n of nodesRes.body) {
      const row = lines.find((l) => l.replace(/^\*/, '').split(/\s+/)[0] === `node:${n.uid}`);
      assert.ok(row, `no row for node ${n.uid}:\n${r.stdout}`);
      const [id, role, addr, status, version] = row.split(/\s+/);
      assert.equal(id, n.uid === 1 ? '*node:1' : `node:${n.uid}`, 'only the connected node has the "*"');
      assert.equal(role, statusRes.body[String(n.uid)]!.role);
      assert.equal(addr, n.addr);
      assert.equal(status, n.status);
      assert.equal(version, n.software_version);
    }

    // Connected to node 2, the "*" moves.
    const via2 = await bosun(['status'], { BOSUN_URL: cluster.node(2).url });
    assert.equal(via2.code, 0, show(via2));
    assert.match(via2.stdout, /^\*node:2\s/m);
    assert.doesNotMatch(via2.stdout, /^\*node:1\s/m);
  });

  it('status -o json: the master, the connected node and every node with its role', async () => {
    const r = await bosun(['status', '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    const body = JSON.parse(r.stdout) as {
      master_uid: number;
      connected_node_uid: number;
      nodes: { uid: number; role: string; status: string }[];
      actions: unknown[];
    };
    assert.equal(body.master_uid, await realMaster());
    assert.equal(body.connected_node_uid, 1);
    assert.deepEqual(
      body.nodes.map((n) => n.uid),
      [1, 2, 3],
    );
    assert.equal(body.nodes.filter((n) => n.role === 'master').length, 1);
    assert.equal(body.nodes.find((n) => n.role === 'master')?.uid, body.master_uid);
    assert.ok(Array.isArray(body.actions));
  });

  it('cluster master: prints the master, as rladmin does', async () => {
    const master = await realMaster();
    const r = await bosun(['cluster', 'master']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `Node ${master} is the cluster master node\n`);
    const json = await bosun(['cluster', 'master', '-o', 'json']);
    assert.equal((JSON.parse(json.stdout) as { uid: number; role: string }).uid, master);
  });

  it('cluster master set: moves the master, with plain progress lines on a pipe, and exits 0', async () => {
    const target = await otherTarget();
    const r = await bosun(['cluster', 'master', 'set', String(target)]);
    assert.equal(r.code, 0, show(r));
    assertPlain(r);
    assert.match(r.stdout, new RegExp(`^Node ${target} set to be the cluster master node`));
    assert.equal(await realMaster(), target);
    // Progress: one plain line per change, ending with completed.
    const progress = r.stderr.trimEnd().split('\n');
    for (const line of progress) {
      assert.match(line, /^change_master: (queued|starting|running|completed) \d+%( \(\w+\))?$/, line);
    }
    assert.match(progress.at(-1)!, /^change_master: completed 100%/);

    // The finished run shows in `bosun status`.
    const status = await bosun(['status']);
    assert.match(status.stdout, /^ACTIONS:$/m);
    assert.match(status.stdout, /change_master\s+completed\s+100%/);
  });

  it('cluster master set -o json: the final run as JSON, no progress text', async () => {
    const target = await otherTarget();
    const r = await bosun(['cluster', 'master', 'set', String(target), '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    const run = JSON.parse(r.stdout) as WireRun;
    assert.equal(run.name, 'change_master');
    assert.equal(run.status, 'completed');
    assert.equal(run.outcome?.new_master, String(target));
    assert.equal(r.stderr, '');
    assert.equal(await realMaster(), target);
  });

  it('cluster master set to the master itself: a no-op that says so', async () => {
    const master = await realMaster();
    const r = await bosun(['cluster', 'master', 'set', String(master)]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`Node ${master} is already the cluster master node`));
  });

  it('cluster master set --no-wait: returns the action_uid at once; actions get --wait follows it', async () => {
    const target = await otherTarget();
    const r = await bosun(['cluster', 'master', 'set', String(target), '--no-wait']);
    assert.equal(r.code, 0, show(r));
    const uid = /action_uid ([0-9a-f-]{36})/.exec(r.stdout)?.[1];
    assert.ok(uid, show(r));
    const followed = await bosun(['actions', 'get', uid, '--wait', '-o', 'json']);
    assert.equal(followed.code, 0, show(followed));
    assert.equal((JSON.parse(followed.stdout) as WireRun).status, 'completed');
    assert.equal(await realMaster(), target);

    const json = await bosun(['cluster', 'master', 'set', '1', '--no-wait', '-o', 'json']);
    assert.equal(json.code, 0, show(json));
    const run = JSON.parse(json.stdout) as WireRun;
    assert.match(run.action_uid, /^[0-9a-f-]{36}$/);
    await eventually(async () =>
      (await node1.get<WireRun>(`/v1/actions/${run.action_uid}`)).body.status === 'completed'
        ? true
        : undefined,
    );
  });

  it("cluster master set <unknown node>: exit 1 with the server's error_code and message", async () => {
    const r = await bosun(['cluster', 'master', 'set', '99']);
    assertOneLineError(r, 1);
    assert.match(r.stderr, /node_not_found/);
    assert.match(r.stderr, /Node 99 does not exist/);

    const json = await bosun(['cluster', 'master', 'set', '99', '-o', 'json']);
    assert.equal(json.code, 1);
    assert.deepEqual(Object.keys(JSON.parse(json.stdout) as object).sort(), ['description', 'error_code']);
  });

  it('a run that fails: exit 1 with the run error_code and message, and the master stays', async () => {
    const master = await realMaster();
    const target = cluster.node(await otherTarget());
    await target.signal('SIGSTOP');
    try {
      const r = await bosun(['cluster', 'master', 'set', String(target.uid)]);
      assert.equal(r.code, 1, show(r));
      assertNoStack(r);
      assert.match(
        r.stderr,
        new RegExp(
          `^bosun: change_master failed: handover_timeout: Node ${target.uid} did not take over`,
          'm',
        ),
      );
      assert.match(r.stderr, /^change_master: running 40% \(handing_over\)$/m);
    } finally {
      await target.signal('SIGCONT');
    }
    assert.equal(await realMaster(), master);
  });

  it('Ctrl-C while waiting stops the waiting, not the action; past the intent a cancel is refused with the reason', async () => {
    const master = await realMaster();
    const target = cluster.node(await otherTarget());
    await target.signal('SIGSTOP');
    try {
      const waiting = startCli(['cluster', 'master', 'set', String(target.uid)], env);
      await waiting.stderrIncludes('handing_over');
      waiting.proc.kill('SIGINT');
      const r = await waiting.done;
      assert.equal(r.code, 130, show(r));
      assert.match(r.stderr, /stopped waiting; change_master [0-9a-f-]{36} goes on in the cluster/);
      // Past the hand-over intent: the hint says why it cannot be cancelled.
      assert.match(r.stderr, /can no longer be cancelled: the target may take over at any moment/);
      const uid = /change_master ([0-9a-f-]{36})/.exec(r.stderr)![1]!;

      // The run goes on.
      const live = await node1.get<WireRun>(`/v1/actions/${uid}`);
      assert.equal(live.body.status, 'running', JSON.stringify(live.body));

      // A cancel past the point of no return is refused with the reason, not silently accepted.
      const cancel = await bosun(['actions', 'cancel', 'change_master']);
      assert.equal(cancel.code, 1, show(cancel));
      assert.match(cancel.stderr, /action_not_cancellable/);
      assert.match(cancel.stderr, /the target may take over at any moment/);

      const end = await bosun(['actions', 'get', uid, '--wait']);
      assert.equal(end.code, 1, show(end));
      assert.match(end.stderr, /^bosun: change_master failed: handover_timeout/m);
    } finally {
      await target.signal('SIGCONT');
    }
    assert.equal(await realMaster(), master);
  });

  it('actions list, get, start and cancel', async () => {
    const target = await otherTarget();
    const started = await bosun(['actions', 'start', 'change_master', '--arg', `node_uid=${target}`]);
    assert.equal(started.code, 0, show(started));
    assert.match(started.stdout, /^change_master completed: master \d+ → \d+/);
    assert.equal(await realMaster(), target);

    const list = await bosun(['actions', 'list', '-o', 'json']);
    assert.equal(list.code, 0, show(list));
    const runs = JSON.parse(list.stdout) as WireRun[];
    const apiRuns = (await node1.get<{ actions: WireRun[] }>('/v1/actions')).body.actions;
    assert.deepEqual(
      runs.map((r) => r.action_uid),
      apiRuns.map((r) => r.action_uid),
    );
    const latest = runs.at(-1)!;

    const table = await bosun(['actions', 'list']);
    assert.match(table.stdout, /^ACTION_UID\s+NAME\s+STATUS\s+PROGRESS/);
    assert.ok(table.stdout.includes(latest.action_uid));

    const byName = await bosun(['actions', 'get', 'change_master']);
    assert.equal(byName.code, 0, show(byName));
    assert.match(byName.stdout, new RegExp(`^action_uid:\\s+${latest.action_uid}$`, 'm'));
    assert.match(byName.stdout, /^status:\s+completed$/m);

    const unknown = await bosun(['actions', 'start', 'no_such_action']);
    assertOneLineError(unknown, 1);
    assert.match(unknown.stderr, /unsupported_action/);

    // Cancelling a finished run clears its status from /v1/cluster/actions.
    const cancel = await bosun(['actions', 'cancel', 'change_master']);
    assert.equal(cancel.code, 0, show(cancel));
    assert.match(cancel.stdout, /had already ended \(completed\)/);
    const gone = await bosun(['actions', 'get', 'change_master']);
    assertOneLineError(gone, 1);
    assert.match(gone.stderr, /action_not_found/);
  });

  it('users: create, list, set-role and delete; a viewer cannot start actions (exit 3)', async () => {
    const email = `ops-${Date.now()}@example.com`;
    const created = await bosun(['users', 'create', email, '--role', 'db_viewer', '-o', 'json']);
    assert.equal(created.code, 0, show(created));
    const user = JSON.parse(created.stdout) as { uid: number; email: string; role: string; password: string };
    assert.equal(user.email, email);
    assert.equal(user.role, 'db_viewer');
    assert.ok(user.password.length >= 8, 'a generated password is returned once');

    const asViewer = { BOSUN_USER: email, BOSUN_PASSWORD: user.password };
    const view = await bosun(['cluster', 'master'], asViewer);
    assert.equal(view.code, 0, show(view));
    const denied = await bosun(['cluster', 'master', 'set', '1'], asViewer);
    assertOneLineError(denied, 3);
    assert.match(denied.stderr, /unauthorized_action/);

    const list = await bosun(['users', 'list']);
    assert.match(
      list.stdout,
      new RegExp(`^${user.uid}\\s+${email.replace(/\./g, '\\.')}\\s+\\S+\\s+db_viewer$`, 'm'),
    );

    const promoted = await bosun(['users', 'set-role', email, 'cluster_member']);
    assert.equal(promoted.code, 0, show(promoted));
    assert.match(promoted.stdout, /now has the role cluster_member/);
    const apiUser = await node1.get<{ role: string }>(`/v1/users/${user.uid}`);
    assert.equal(apiUser.body.role, 'cluster_member');

    const badRole = await bosun(['users', 'set-role', email, 'superuser']);
    assertOneLineError(badRole, 2);

    const deleted = await bosun(['users', 'delete', String(user.uid)]);
    assert.equal(deleted.code, 0, show(deleted));
    assert.equal((await node1.get(`/v1/users/${user.uid}`)).status, 404);
    const again = await bosun(['users', 'delete', email]);
    assertOneLineError(again, 1);
  });

  it('auth: a wrong password or a missing credential exits 3 with one line', async () => {
    assertOneLineError(await bosun(['status'], { BOSUN_PASSWORD: 'wrong-password' }), 3);
    assertOneLineError(await bosun(['status', '--password', 'wrong-password']), 3);
    const noPassword = await bosun(['status'], { BOSUN_PASSWORD: undefined });
    assertOneLineError(noPassword, 3);
    assert.match(noPassword.stderr, /BOSUN_PASSWORD/);
    assertOneLineError(await bosun(['status'], { BOSUN_USER: undefined, BOSUN_PASSWORD: undefined }), 3);
  });

  it('cannot connect: exit 4 with one line', async () => {
    const r = await bosun(['status'], { BOSUN_URL: `http://127.0.0.1:${await freePort()}` });
    assertOneLineError(r, 4);
    assert.match(r.stderr, /connection refused/);
  });

  it('usage errors: unknown command or option, bad uid, bad format: exit 2 with one line', async () => {
    for (const args of [
      ['stauts'],
      ['cluster', 'master', 'set', 'abc'],
      ['cluster', 'master', 'set', '0'],
      ['cluster', 'master', 'set'],
      ['status', '--bogus'],
      ['status', '-o', 'yaml'],
      ['users', 'frobnicate'],
      ['status', '--url', 'ftp://example.com'],
    ]) {
      const r = await bosun(args);
      assertOneLineError(r, 2);
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  it('HTTPS: refused without trust (naming the fingerprint), accepted with --insecure, a pin or --ca-cert', async () => {
    const url = `https://127.0.0.1:${node1.httpsPort}`;
    const fp = fingerprint(cluster, 1);

    const untrusted = await bosun(['cluster', 'master', '--url', url]);
    assertOneLineError(untrusted, 4);
    assert.ok(untrusted.stderr.includes(`--pin-sha256 ${fp}`), show(untrusted));

    const insecure = await bosun(['cluster', 'master', '--url', url, '--insecure']);
    assert.equal(insecure.code, 0, show(insecure));

    const pinned = await bosun([
      'cluster',
      'master',
      '--url',
      url,
      '--pin-sha256',
      fp.replace(/:/g, '').toLowerCase(),
    ]);
    assert.equal(pinned.code, 0, show(pinned));

    const wrongPin = await bosun([
      'cluster',
      'master',
      '--url',
      url,
      '--pin-sha256',
      fingerprint(cluster, 2),
    ]);
    assertOneLineError(wrongPin, 4);
    assert.match(wrongPin.stderr, /does not match the pinned fingerprint/);

    const ca = join(cluster.dataDir, 'nodes', '1', 'tls', 'cert.pem');
    const withCa = await bosun(['cluster', 'master', '--url', url, '--ca-cert', ca]);
    assert.equal(withCa.code, 0, show(withCa));
  });

  it('--help on every command shows examples', async () => {
    for (const path of [
      [],
      ['status'],
      ['cluster'],
      ['cluster', 'master'],
      ['cluster', 'master', 'set'],
      ['actions'],
      ['actions', 'list'],
      ['actions', 'get'],
      ['actions', 'start'],
      ['actions', 'cancel'],
      ['users'],
      ['users', 'list'],
      ['users', 'create'],
      ['users', 'delete'],
      ['users', 'set-role'],
      ['logs'],
      ['node'],
      ['start'],
    ]) {
      const r = await runCli([...path, '--help']);
      assert.equal(r.code, 0, `${path.join(' ')}: ${show(r)}`);
      assert.match(r.stdout, /^Examples:$/m, `bosun ${path.join(' ')} --help`);
    }
  });

  it('bosun node start: runs a node (an alias of bosun node) that joins the cluster', async () => {
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const joining = startCli(
      [
        'node',
        'start',
        '--uid',
        '4',
        '--data-dir',
        cluster.dataDir,
        '--store',
        cluster.store,
        '--http-port',
        String(httpPort),
        '--https-port',
        String(httpsPort),
        '--lease-ttl',
        String(cluster.leaseTtlMs),
      ],
      { BOSUN_ADMIN_EMAIL: ADMIN_EMAIL, BOSUN_ADMIN_PASSWORD: ADMIN_PASSWORD },
    );
    try {
      const row = await eventually(async () => {
        const r = await bosun(['status'], { BOSUN_URL: `http://127.0.0.1:${httpPort}` });
        return r.code === 0 ? /^\*node:4\s+slave\s+\S+\s+active/m.exec(r.stdout)?.[0] : undefined;
      }, 30_000);
      assert.ok(row);
    } finally {
      joining.proc.kill('SIGTERM');
      await joining.done;
    }
  });
});
