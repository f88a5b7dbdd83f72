/**
 * The dashboard's serving (issue 11): `/` and `/ui/` on every node, from the built files, public,
 * with the page's security headers; the API stays protected; cross-origin reads only from the
 * cluster's own nodes; the additive `/v1/cluster` master fields and `/v1/whoami`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { adminAuth, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { expectError } from './support.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe('dashboard serving', () => {
  let t: TestNode;
  let origin = '';
  const get = (url: string, headers: Record<string, string> = {}) =>
    t.node.app.inject({ method: 'GET', url, headers });

  before(async () => {
    t = await startTestNode();
    const nodes = (await get('/v1/nodes', { authorization: adminAuth })).json<{ cnm_http_port: number }[]>();
    origin = `http://127.0.0.1:${nodes[0]!.cnm_http_port}`;
  });
  after(async () => {
    await t?.stop();
  });

  it('redirects / and /ui to /ui/, which serves the page without credentials', async () => {
    for (const url of ['/', '/ui']) {
      const res = await get(url);
      assert.equal(res.statusCode, 302, url);
      assert.equal(res.headers.location, '/ui/');
    }
    const page = await get('/ui/');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<script type="module" src="app.js"><\/script>/);
  });

  it('sends a strict CSP, anti-framing and nosniff on every dashboard answer', async () => {
    for (const url of ['/', '/ui/', '/ui/app.js', '/ui/app.css']) {
      const res = await get(url);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/, url);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.match(csp, /style-src 'self'(;|$)/, url);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, url);
      // Connections: this node and the cluster's own nodes, nothing else.
      assert.match(csp, new RegExp(`connect-src 'self' [^;]*${origin.replace(/[.]/g, '\\.')}`), url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    }
  });

  it('serves gzip to clients that take it, revalidates by ETag, and 404s an unknown file', async () => {
    const plain = await get('/ui/app.js');
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    const gz = await get('/ui/app.js', { 'accept-encoding': 'gzip, br' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.rawPayload.length < plain.rawPayload.length);
    const again = await get('/ui/app.js', { 'if-none-match': String(plain.headers.etag) });
    assert.equal(again.statusCode, 304);
    expectError(await get('/ui/secrets.json'), 404, 'not_found');
    expectError(await get('/ui/..%2fpackage.json'), 404, 'not_found');
  });

  it('keeps the API protected: no credentials is still 401', async () => {
    expectError(await get('/v1/cluster'), 401, 'unauthorized');
    expectError(await get('/v1/whoami'), 401, 'unauthorized');
  });

  it('lets the cluster’s own origins read answers (errors too), and no other origin', async () => {
    const own = await get('/v1/cluster', { origin });
    assert.equal(own.statusCode, 401);
    assert.equal(own.headers['access-control-allow-origin'], origin);
    assert.equal(own.headers['access-control-allow-credentials'], undefined);
    const evil = await get('/v1/cluster', { origin: 'http://evil.example:8080' });
    assert.equal(evil.headers['access-control-allow-origin'], undefined);

    const preflight = (o: string) =>
      t.node.app.inject({
        method: 'OPTIONS',
        url: '/v1/cluster/actions/change_master',
        headers: {
          origin: o,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
    const ok = await preflight(origin);
    assert.equal(ok.statusCode, 204);
    assert.match(String(ok.headers['access-control-allow-headers']), /authorization/);
    const refused = await preflight('http://evil.example:8080');
    assert.notEqual(refused.statusCode, 204);
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
  });

  it('GET /v1/cluster names the master, its epoch and since when; /v1/whoami the caller', async () => {
    const cluster = (await get('/v1/cluster', { authorization: adminAuth })).json<Record<string, unknown>>();
    assert.equal(cluster.master_uid, 1);
    assert.equal(typeof cluster.master_epoch, 'number');
    assert.ok(Number.isFinite(Date.parse(String(cluster.master_since))));
    assert.equal(cluster.node_uid, 1);
    const me = (await get('/v1/whoami', { authorization: adminAuth })).json<Record<string, unknown>>();
    assert.equal(me.role, 'admin');
    assert.ok((me.permissions as string[]).includes('start_cluster_action'));
  });

  it('the page has no inline script or style, and its sources never write API data as HTML', () => {
    const index = readFileSync(join(repo, 'ui', 'index.html'), 'utf8');
    assert.doesNotMatch(index, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(index, /<style|\sstyle=|\son[a-z]+=/i);
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : [join(dir, e.name)],
      );
    for (const file of sources(join(repo, 'ui', 'src'))) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(
        text,
        /innerHTML|outerHTML|dangerouslySetInnerHTML|insertAdjacentHTML|document\.write/,
        file,
      );
    }
  });
});
