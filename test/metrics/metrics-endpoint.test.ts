/**
 * GET /metrics on an in-process node: the text format, the series the issue lists, bounded labels
 * (route patterns, never URLs, emails or uids), failed logins, and the authentication switch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { adminAuth, basic, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { parseMetrics, sample } from '../helpers/prometheus.js';

const EXPECTED = [
  'bosun_handover_duration_seconds',
  'bosun_no_master_window_seconds',
  'bosun_action_runs_total',
  'bosun_action_run_duration_seconds',
  'bosun_master_changes_total',
  'bosun_lease_renewal_seconds',
  'bosun_lease_renewal_misses_total',
  'bosun_store_operation_seconds',
  'bosun_store_errors_total',
  'bosun_watch_lag_seconds',
  'bosun_http_requests_total',
  'bosun_sse_streams_open',
  'bosun_auth_failures_total',
  'bosun_auth_lockouts_total',
];

describe('GET /metrics (public, the default)', () => {
  let t: TestNode;
  before(async () => {
    // A long lease: on a loaded machine a 1 s lease can lapse between renewals, and the API then answers 503.
    t = await startTestNode({ leaseTtlMs: 5000 });
  });
  after(async () => {
    await t?.stop();
  });

  const scrape = async (): Promise<string> => {
    const res = await t.node.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return res.body;
  };

  it('serves every listed metric without credentials', async () => {
    const text = await scrape();
    for (const name of EXPECTED) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    assert.equal(sample(text, 'bosun_sse_streams_open'), 0);
    assert.equal(sample(text, 'bosun_master'), 1, 'the single node is master');
    assert.ok(sample(text, 'bosun_master_epoch') >= 1);
    assert.equal(sample(text, 'bosun_master_changes_total', { cause: 'initial' }), 1);
    assert.ok(sample(text, 'bosun_store_operation_seconds_count', { op: 'txn' }) > 0);
    assert.ok(sample(text, 'process_cpu_seconds_total') > 0, 'the runtime metrics are there too');
  });

  it('counts HTTP requests by route pattern and status, never by URL', async () => {
    const before = await scrape();
    const route = { method: 'GET', route: '/v1/nodes/:uid', status: '200' };
    for (const uid of [1, 1, 1]) {
      const res = await t.node.app.inject({
        method: 'GET',
        url: `/v1/nodes/${uid}`,
        headers: { authorization: adminAuth },
      });
      assert.equal(res.statusCode, 200);
    }
    await t.node.app.inject({ method: 'GET', url: '/v1/nodes/77', headers: { authorization: adminAuth } });
    await t.node.app.inject({ method: 'GET', url: '/no/such/path/8f1e2' });
    const text = await scrape();
    assert.equal(
      sample(text, 'bosun_http_requests_total', route) - sample(before, 'bosun_http_requests_total', route),
      3,
    );
    assert.ok(sample(text, 'bosun_http_requests_total', { route: '/v1/nodes/:uid', status: '404' }) >= 1);
    assert.ok(sample(text, 'bosun_http_requests_total', { route: 'unmatched', status: '404' }) >= 1);
    for (const s of parseMetrics(text)) {
      for (const value of Object.values(s.labels)) {
        assert.doesNotMatch(value, /8f1e2|@|\/v1\/nodes\/[0-9]/, `unbounded label in ${s.name}: ${value}`);
      }
    }
  });

  it('counts failed logins by scheme, with no email in any label', async () => {
    const before = await scrape();
    await t.node.app.inject({
      method: 'GET',
      url: '/v1/nodes',
      headers: { authorization: basic('admin@test.local', 'wrong-password') },
    });
    await t.node.app.inject({
      method: 'GET',
      url: '/v1/nodes',
      headers: { authorization: 'JWT not.a.token' },
    });
    await t.node.app.inject({
      method: 'POST',
      url: '/v1/users/authorize',
      payload: { username: 'who@x.y', password: 'nope-nope' },
    });
    // No credentials at all is not a failed login.
    await t.node.app.inject({ method: 'GET', url: '/v1/nodes' });
    const text = await scrape();
    const diff = (scheme: string) =>
      sample(text, 'bosun_auth_failures_total', { scheme }) -
      sample(before, 'bosun_auth_failures_total', { scheme });
    assert.equal(diff('basic'), 2);
    assert.equal(diff('jwt'), 1);
    assert.doesNotMatch(text, /who@x\.y|admin@test\.local/);
  });
});

describe('GET /metrics with metrics authentication on', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode({ metricsAuth: true });
  });
  after(async () => {
    await t?.stop();
  });

  it('needs a user with view_all_metrics', async () => {
    const anonymous = await t.node.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json<{ error_code: string }>().error_code, 'unauthorized');
    const admin = await t.node.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: adminAuth },
    });
    assert.equal(admin.statusCode, 200);
    assert.match(admin.body, /bosun_http_requests_total/);

    const create = await t.node.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { authorization: adminAuth },
      payload: { email: 'viewer@test.local', password: 'viewer-password-1', role: 'db_viewer' },
    });
    assert.equal(create.statusCode, 200, create.body);
    const viewer = await t.node.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: basic('viewer@test.local', 'viewer-password-1') },
    });
    assert.equal(viewer.statusCode, 403);
  });
});
