/**
 * Request ids (src/api/request-id.ts): one id traces a request from the client to the run it created
 * and to every log line about it. Taken from X-Request-ID when acceptable, generated otherwise, and
 * returned on every answer, errors included.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { pino } from 'pino';

import { adminAuth, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { poll } from './support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids', () => {
  let t: TestNode;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n'))
          if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    t = await startTestNode({ log: pino({ level: 'info' }, sink) });
  });

  after(async () => {
    await t?.stop();
  });

  const inject = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'POST' = 'GET') =>
    t.node.app.inject({ method, url, headers: { authorization: adminAuth, ...headers } });

  it('keeps an acceptable X-Request-ID and returns it', async () => {
    const res = await inject('/v1/nodes', { 'x-request-id': 'client-trace-0001' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-request-id'], 'client-trace-0001');
    const longest = 'a'.repeat(128);
    assert.equal((await inject('/v1/nodes', { 'x-request-id': longest })).headers['x-request-id'], longest);
  });

  it('generates one when none is given, or when the given one is unacceptable', async () => {
    const bad = ['', 'a'.repeat(129), 'has space', 'tab\there', 'é-accent', 'line\u007f'];
    const none = await inject('/v1/nodes');
    assert.match(String(none.headers['x-request-id']), UUID);
    for (const value of bad) {
      const res = await t.node.app.inject({
        method: 'GET',
        url: '/v1/nodes',
        headers: { authorization: adminAuth, 'x-request-id': value },
      });
      assert.equal(res.statusCode, 200, JSON.stringify(value));
      assert.match(String(res.headers['x-request-id']), UUID, JSON.stringify(value));
    }
    const a = (await inject('/v1/nodes')).headers['x-request-id'];
    const b = (await inject('/v1/nodes')).headers['x-request-id'];
    assert.notEqual(a, b);
  });

  it('is returned on error answers too (401, 404, 400)', async () => {
    const unauth = await t.node.app.inject({
      method: 'GET',
      url: '/v1/nodes',
      headers: { 'x-request-id': 'e-401' },
    });
    assert.equal(unauth.statusCode, 401);
    assert.equal(unauth.headers['x-request-id'], 'e-401');
    const missing = await inject('/v1/no-such-thing', { 'x-request-id': 'e-404' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['x-request-id'], 'e-404');
    const badJson = await t.node.app.inject({
      method: 'POST',
      url: '/v1/cluster/actions/change_master',
      headers: { authorization: adminAuth, 'content-type': 'application/json', 'x-request-id': 'e-400' },
      payload: '{nope',
    });
    assert.equal(badJson.statusCode, 400);
    assert.equal(badJson.headers['x-request-id'], 'e-400');
  });

  it('is recorded in the run a POST creates, and in every log line about that run', async () => {
    const res = await t.node.app.inject({
      method: 'POST',
      url: '/v1/cluster/actions/change_master',
      headers: { authorization: adminAuth, 'x-request-id': 'trace-run-42' },
      payload: { node_uid: 1 },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['x-request-id'], 'trace-run-42');
    const run = res.json<{ action_uid: string; request_id?: string }>();
    assert.equal(run.request_id, 'trace-run-42');
    const done = await poll(
      async () =>
        (await inject(`/v1/actions/${run.action_uid}`)).json<{ status: string; request_id?: string }>(),
      (r) => r.status === 'completed',
      'the run to complete',
    );
    assert.equal(done.request_id, 'trace-run-42');
    const about = await poll(
      async () => lines.filter((l) => l.action_uid === run.action_uid),
      (ls) => ls.some((l) => l.msg === 'action completed'),
      'the engine to log the run',
    );
    assert.ok(about.length >= 2, JSON.stringify(about));
    for (const line of about) assert.equal(line.request_id, 'trace-run-42', JSON.stringify(line));
  });
});
