/**
 * The event streams (issue 10, point 1) with real `bosun node` processes on a real store, defined
 * once and run on each store (stream-sqlite.test.ts, stream-etcd.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { followEventStream } from '../../src/client/event-stream.js';
import type { SseEvent } from '../../src/client/sse-parser.js';
import type { CompatStore } from '../compat/compat-suite.js';
import { startCli } from '../cli/support.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth } from '../helpers/in-process-node.js';
import { eventually, ProcessCluster, type ClusterNode } from '../helpers/process-cluster.js';
import { data, openStream } from '../helpers/sse-stream.js';

const auth = { authorization: adminAuth };

/** What two streams must agree on: each event's type, id and payload. */
/** A GET that may wait longer than ClusterNode.request's 10 s. */
async function longGet<T>(node: ClusterNode, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(node.url + path, { headers: auth, signal: AbortSignal.timeout(40_000) });
  return { status: res.status, body: (await res.json()) as T };
}

const key = (ev: SseEvent) => `${ev.id ?? ''}|${ev.event}|${ev.data}`;

export function defineStreamSuite(label: string, store: CompatStore): void {
  describe(`event streams (${label})`, { timeout: 180_000 }, () => {
    let cluster: ProcessCluster;

    before(async () => {
      const url = await store.url();
      cluster = await ProcessCluster.start({
        nodes: 3,
        leaseTtlMs: 1500,
        handoverTimeoutMs: 3000,
        env: { BOSUN_SSE_HEARTBEAT_MS: '200' },
        ...(url ? { store: url } : {}),
      });
    });

    after(async () => {
      await cluster?.destroy();
      await store.cleanup();
    });

    const followers = async (): Promise<ClusterNode[]> => {
      const m = await cluster.waitForAgreedMaster();
      return cluster.responsive().filter((n) => n.uid !== m);
    };
    const createUser = async (node: ClusterNode, name: string) => {
      const res = await node.request('POST', '/v1/users', {
        name,
        email: `${name}@example.com`,
        password: 'a-Password-1234',
        role: 'cluster_viewer',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };

    it('the run stream replays a change_master from queued to completed, with phases, then ends', async () => {
      const [target] = await followers();
      const before = await cluster.running()[0]!.get<{ epoch?: number }>('/v1/local/node/master_healthcheck');
      assert.equal(before.status, 200);
      const events = await openStream(target!.url, '/v1/events', auth);
      const hello = await events.waitFor((e) => e.event === 'hello', 'hello');
      const helloData = data<{ revision: number; node_uid: number }>(hello);
      assert.equal(helloData.node_uid, target!.uid);
      assert.equal(hello.id, undefined, 'hello carries no id');

      const post = await target!.request<{ action_uid: string }>(
        'POST',
        '/v1/cluster/actions/change_master',
        {
          node_uid: String(target!.uid),
        },
      );
      assert.equal(post.status, 200);
      const uid = post.body.action_uid;
      // From another node, resuming at the hello's revision: the whole run, whatever it did meanwhile.
      const other = cluster.responsive().find((n) => n.uid !== target!.uid)!;
      const run = await openStream(other.url, `/v1/actions/${uid}/events`, {
        ...auth,
        'last-event-id': String(helloData.revision),
      });
      assert.equal(run.status, 200);
      await run.ended;
      const actions = run.events
        .filter((e) => e.event === 'action')
        .map((e) => data<Record<string, unknown>>(e));
      assert.equal(actions[0]!.status, 'queued');
      assert.equal(actions.at(-1)!.status, 'completed');
      const phases = new Set(actions.map((a) => a.phase).filter(Boolean));
      assert.ok(phases.size >= 2, `phases seen: ${[...phases].join(', ')}`);
      const progress = actions.map((a) => a.progress as number);
      assert.deepEqual(
        progress,
        [...progress].sort((a, b) => a - b),
        'progress never goes back',
      );
      const ids = run.events.filter((e) => e.event === 'action').map((e) => Number(e.id));
      assert.deepEqual(
        ids,
        [...new Set(ids)].sort((a, b) => a - b),
        'ids increase, none repeats',
      );

      // The cluster stream saw the master move, with a new epoch.
      const master = await events.waitFor(
        (e) => e.event === 'master' && data(e).node_uid === target!.uid && data(e).master_status === 'master',
        'the master event naming the target',
      );
      const m = data<{ epoch: number; since: string }>(master);
      assert.ok(m.epoch >= 1 && !Number.isNaN(Date.parse(m.since)));
      assert.ok(events.events.some((e) => e.event === 'action' && data(e).action_uid === uid));
      events.close();

      // A run already terminal: its state, and the stream ends at once.
      const again = await openStream(other.url, `/v1/actions/${uid}/events`, auth);
      await again.ended;
      assert.deepEqual(
        again.events.map((e) => e.event),
        ['hello', 'action'],
      );
      assert.equal(data(again.events[1]!).status, 'completed');
    });

    it('kill -9 the node mid-stream: the client resumes on another node, no gap, no duplicate', async () => {
      const [victim, survivor] = await followers();
      const received: SseEvent[] = [];
      const reconnects: string[] = [];
      const abort = new AbortController();
      let sawLast = false;
      const following = followEventStream({
        urls: [new URL(victim!.url), new URL(survivor!.url)],
        path: '/v1/events',
        headers: auth,
        agentFor: () => new http.Agent(),
        signal: abort.signal,
        silenceMs: 5000,
        onReconnect: (err, next) => reconnects.push(`${err.message} -> ${next.host}`),
        onEvent: (ev) => {
          received.push(ev);
          if (ev.event === 'user' && data(ev).name === `resume-${label}-5`) {
            sawLast = true;
            return 'stop';
          }
          return undefined;
        },
      });
      const hello = await eventually(async () => received.find((e) => e.event === 'hello'), 10_000, 'hello');
      // The reference: a stream on the survivor from the same revision, never interrupted.
      const reference = await openStream(survivor!.url, '/v1/events', {
        ...auth,
        'last-event-id': String(data(hello).revision),
      });
      await createUser(survivor!, `resume-${label}-1`);
      await eventually(async () => received.some((e) => e.event === 'user') || undefined, 10_000, 'user 1');
      await victim!.signal('SIGKILL');
      for (let i = 2; i <= 5; i++) await createUser(survivor!, `resume-${label}-${i}`);
      await following;
      assert.ok(sawLast);
      assert.ok(reconnects.length >= 1, 'the client reconnected');
      await reference.waitFor((e) => e.event === 'user' && data(e).name === `resume-${label}-5`, 'user 5');
      reference.close();
      const got = received.filter((e) => e.event !== 'hello').map(key);
      const want = reference.events.filter((e) => e.event !== 'hello').map(key);
      assert.deepEqual(got, want.slice(0, got.length));
      assert.equal(got.length, want.indexOf(got.at(-1)!) + 1);
      assert.equal(new Set(got).size, got.length, 'no event twice');
      // The victim comes back for the next tests.
      victim!.start();
      await cluster.waitForAgreedMaster();
      await eventually(async () => ((await victim!.get('/v1/cluster')).status === 200 ? true : undefined));
    });

    it('permissions, bad input, and ?access_token= (never logged)', async () => {
      const [n] = await followers();
      assert.equal((await openStream(n!.url, '/v1/events')).status, 401);
      assert.equal((await openStream(n!.url, '/v1/events?access_token=not-a-jwt')).status, 401);
      assert.equal((await openStream(n!.url, '/v1/actions/nope/events')).status, 401);
      const missing = await openStream(n!.url, '/v1/actions/nope/events', auth);
      assert.equal(missing.status, 404);
      assert.equal((JSON.parse(missing.body) as { error_code: string }).error_code, 'action_not_found');
      const bad = await openStream(n!.url, '/v1/events', { ...auth, 'last-event-id': 'yesterday' });
      assert.equal(bad.status, 400);
      assert.equal((JSON.parse(bad.body) as { error_code: string }).error_code, 'invalid_schema');

      const token = (await n!.request<{ access_token: string }>('POST', '/v1/users/authorize', {})).body
        .access_token;
      const viaQuery = await openStream(n!.url, `/v1/events?access_token=${encodeURIComponent(token)}`);
      assert.equal(viaQuery.status, 200);
      await viaQuery.waitFor((e) => e.event === 'hello', 'hello');
      viaQuery.close();
      // The token works on the streams only.
      const elsewhere = await fetch(`${n!.url}/v1/cluster?access_token=${encodeURIComponent(token)}`);
      assert.equal(elsewhere.status, 401);
      const logs = join(cluster.dataDir, 'logs');
      for (const f of readdirSync(logs)) assert.ok(!readFileSync(join(logs, f), 'utf8').includes(token), f);

      // A revision no node has reached: reset, then live.
      const ahead = await openStream(n!.url, '/v1/events', { ...auth, 'last-event-id': '999999999999' });
      const reset = await ahead.waitFor((e) => e.event === 'reset', 'reset', 10_000);
      assert.equal(typeof data(reset).revision, 'number');
      assert.equal(reset.id, String(data(reset).revision));
      ahead.close();
    });

    it('?wait= returns at once for a finished run, on completion, or on timeout with the run as it stands', async () => {
      const [target, other] = await followers();
      // A bad wait is a 400 naming the bound, before anything else is looked at.
      for (const bad of ['abc', '31s', '-1', '1h', '']) {
        const res = await other!.get<{ error_code: string; description: string }>(
          `/v1/actions/nope?wait=${bad}`,
        );
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.error_code, 'invalid_schema');
        assert.match(res.body.description, /"wait"/);
      }
      assert.equal((await other!.get('/v1/cluster/actions/change_master?wait=2m')).status, 400);

      // Completion: one request, answered with the terminal state.
      const post = await other!.request<{ action_uid: string }>('POST', '/v1/cluster/actions/change_master', {
        node_uid: String(target!.uid),
      });
      const done = await longGet<{ status: string; progress: string }>(
        other!,
        `/v1/actions/${post.body.action_uid}?wait=30s`,
      );
      assert.equal(done.status, 200);
      assert.equal(done.body.status, 'completed');
      assert.equal(done.body.progress, '100');
      // Finished already: at once (well inside the 30 s asked for), on the cluster form too.
      const started = Date.now();
      const byName = await longGet<{ status: string; progress: number }>(
        other!,
        '/v1/cluster/actions/change_master?wait=30s',
      );
      assert.equal(byName.body.status, 'completed');
      assert.equal(byName.body.progress, 100);
      assert.ok(Date.now() - started < 30_000);

      // Timeout: a target that stops answering keeps the run in flight past a short wait.
      const nextTarget = (await followers()).find((n) => n.uid !== other!.uid);
      await nextTarget!.signal('SIGSTOP');
      try {
        const slow = await other!.request<{ action_uid: string }>(
          'POST',
          '/v1/cluster/actions/change_master',
          { node_uid: String(nextTarget!.uid) },
        );
        assert.equal(slow.status, 200, JSON.stringify(slow.body));
        const mid = await longGet<{ status: string }>(
          other!,
          `/v1/actions/${slow.body.action_uid}?wait=300ms`,
        );
        assert.equal(mid.status, 200);
        assert.ok(['queued', 'starting', 'running'].includes(mid.body.status), mid.body.status);
        const end = await longGet<{ status: string }>(other!, `/v1/cluster/actions/change_master?wait=30s`);
        assert.ok(['completed', 'failed'].includes(end.body.status), JSON.stringify(end.body));
      } finally {
        await nextTarget!.signal('SIGCONT');
      }
      await cluster.waitForAgreedMaster();
    });

    it('bosun events resumes on another node after kill -9 (no loss, no repeat); master set follows the run', async () => {
      const [victim, survivor] = await followers();
      const reference = await openStream(survivor!.url, '/v1/events', auth);
      const hello = await reference.waitFor((e) => e.event === 'hello', 'hello');
      const env = { BOSUN_URL: victim!.url, BOSUN_USER: ADMIN_EMAIL, BOSUN_PASSWORD: ADMIN_PASSWORD };
      const cli = startCli(['events', '-o', 'json', '--since', String(data(hello).revision)], env);
      let out = '';
      cli.proc.stdout!.on('data', (d: string) => (out += d));
      const lines = () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { id?: string; event: string; data: Record<string, unknown> });
      const seen = (name: string) => lines().some((l) => l.event === 'user' && l.data.name === name);
      await createUser(survivor!, `cli-${label}-1`);
      await eventually(async () => seen(`cli-${label}-1`) || undefined, 15_000, 'the CLI to print user 1');
      await victim!.signal('SIGKILL');
      for (let i = 2; i <= 4; i++) await createUser(survivor!, `cli-${label}-${i}`);
      await eventually(async () => seen(`cli-${label}-4`) || undefined, 20_000, 'the CLI to print user 4');
      cli.proc.kill('SIGINT');
      const result = await cli.done;
      assert.match(result.stderr, /resuming on/);
      const got = lines()
        .filter((l) => l.event !== 'hello')
        .map((l) => `${l.id ?? ''}|${l.event}|${JSON.stringify(l.data)}`);
      const want = reference.events
        .filter((e) => e.event !== 'hello')
        .map((e) => `${e.id ?? ''}|${e.event}|${JSON.stringify(JSON.parse(e.data))}`);
      reference.close();
      assert.deepEqual(got, want.slice(0, got.length));
      victim!.start();
      await cluster.waitForAgreedMaster();

      // `master set` follows the run's stream to its end.
      const [target] = await followers();
      const set = await startCli(['cluster', 'master', 'set', String(target!.uid)], {
        ...env,
        BOSUN_URL: survivor!.url,
      }).done;
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stderr, /completed/);
    });

    it('node and user events; heartbeats; streams end when the node stops', async () => {
      const [n, other] = await followers();
      const s = await openStream(n!.url, '/v1/events', auth);
      await createUser(other!, `events-${label}`);
      const user = await s.waitFor((e) => e.event === 'user' && data(e).name === `events-${label}`, 'user');
      assert.deepEqual(Object.keys(data(user)).sort(), ['change', 'email', 'name', 'role', 'uid']);
      assert.equal(data(user).change, 'created');
      await eventually(async () => (s.parser.comments > 0 ? true : undefined), 5000, 'a heartbeat');
      await other!.signal('SIGKILL');
      const down = await s.waitFor((e) => e.event === 'node' && data(e).uid === other!.uid, 'node down');
      assert.equal(data(down).status, 'down');
      other!.start();
      const up = await s.waitFor(
        (e) => e.event === 'node' && data(e).uid === other!.uid && data(e).status === 'active',
        'node up',
        20_000,
      );
      assert.equal(typeof data(up).addr, 'string');
      await n!.signal('SIGTERM');
      await s.ended;
      n!.start();
      await cluster.waitForAgreedMaster();
    });
  });
}
