/**
 * The OpenAPI 3.1 document (src/api/openapi.ts): every route the node serves appears with its method,
 * its permission and its catalogue error codes; and a real answer of every route validates against the
 * schema the document gives for it. The UI at /docs is served from the node itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

import { permissionTable } from '../../src/api/auth/permissions.js';
import { httpStatus } from '../../src/api/http-errors.js';
import { adminAuth, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { poll } from './support.js';

interface Operation {
  'x-permission'?: string | null;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** Every (method, URL pattern) the app serves, from Fastify's own route tree. */
function servedRoutes(tree: string): [string, string][] {
  const out: [string, string][] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)/.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push([method, path]);
  }
  return out;
}

const toOpenApi = (path: string): string => path.replace(/:([a-z_]+)/g, '{$1}');

describe('OpenAPI document', () => {
  let t: TestNode;
  let doc: Doc;
  before(async () => {
    // A long lease: on a loaded machine a 1 s lease can lapse between renewals, and the API then answers 503.
    t = await startTestNode({ leaseTtlMs: 5000 });
    const res = await t.node.app.inject({ method: 'GET', url: '/v1/openapi.json' });
    assert.equal(res.statusCode, 200);
    doc = res.json<Doc>();
  });
  after(async () => {
    await t?.stop();
  });

  const call = (method: string, url: string, payload?: Record<string, unknown>) =>
    t.node.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: adminAuth },
      ...(payload ? { payload } : {}),
    });

  it('is OpenAPI 3.1 and lists every route with its method', () => {
    assert.equal(doc.openapi, '3.1.0');
    const served = servedRoutes(t.node.app.printRoutes({ commonPrefix: false })).filter(
      // The two browsable UIs (the API's documentation, the dashboard) are pages, not API routes.
      ([, path]) =>
        !path.startsWith('/docs') && !path.startsWith('/ui') && path !== '/' && path !== '/v1/openapi.json',
    );
    assert.ok(served.length >= 25, `found ${served.length} routes`);
    for (const [method, path] of served) {
      assert.ok(
        doc.paths[toOpenApi(path)]?.[method.toLowerCase()],
        `${method} ${path} is not in the document`,
      );
    }
  });

  it("names each operation's permission, and its error codes from the catalogue", () => {
    const byStatus = new Map<number, string[]>();
    for (const [code, status] of Object.entries(httpStatus))
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        const permission = op['x-permission'];
        assert.ok(
          permission === null || Object.hasOwn(permissionTable, permission!),
          `${where}: ${permission}`,
        );
        if (permission) {
          assert.ok(op.responses['401'] && op.responses['403'], `${where}: 401 and 403 documented`);
          assert.ok((op.security ?? []).length > 0, `${where}: security`);
        }
        for (const [status, response] of Object.entries(op.responses)) {
          if (!/^[45]/.test(status)) continue;
          const schema = response.content?.['application/json']?.schema as {
            properties: { error_code: { enum?: string[] } };
          };
          assert.deepEqual(
            schema.properties.error_code.enum,
            byStatus.get(Number(status)),
            `${where} ${status}`,
          );
        }
      }
    }
  });

  /** An event stream over real HTTP (it never ends by itself): its head and first event. */
  const streamHead = async (url: string) => {
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${t.node.httpAddress()!.port}${url}`, {
      headers: { authorization: adminAuth },
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    let body = '';
    while (!body.includes('\n\n')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      body += Buffer.from(chunk.value).toString('utf8');
    }
    abort.abort();
    return { statusCode: res.status, body, headers: Object.fromEntries(res.headers.entries()) };
  };

  it('a real answer of every route validates against its documented schema', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const check = (
      method: string,
      pattern: string,
      res: { statusCode: number; body: string; headers: Record<string, unknown> },
    ) => {
      const where = `${method} ${pattern}`;
      assert.equal(res.statusCode, 200, `${where}: ${res.body}`);
      const content = doc.paths[pattern]?.[method.toLowerCase()]?.responses['200']?.content;
      assert.ok(content, `${where}: no documented 200 answer`);
      const [type, { schema }] = Object.entries(content)[0]!;
      const body: unknown = type.startsWith('application/json')
        ? res.body === ''
          ? null
          : JSON.parse(res.body)
        : res.body;
      const contentType = res.headers['content-type'];
      if (typeof contentType === 'string') assert.ok(contentType.startsWith(type.split(';')[0]!), where);
      const validate = ajv.compile(schema as object);
      assert.ok(validate(body), `${where}: ${ajv.errorsText(validate.errors)}\n${res.body.slice(0, 500)}`);
      checked.add(`${method} ${pattern}`);
    };
    const checked = new Set<string>();

    // A finished run, so the per-run and per-action routes have something to show.
    const post = await call('POST', '/v1/cluster/actions/change_master', { node_uid: 1 });
    check('POST', '/v1/cluster/actions/{action}', post);
    const uid = post.json<{ action_uid: string }>().action_uid;
    await poll(
      async () => (await call('GET', `/v1/actions/${uid}`)).json<{ status: string }>(),
      (r) => r.status === 'completed',
      'the run to complete',
    );
    const samples: Record<string, string> = { '{uid}': '1', '{action}': 'change_master' };
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!ops.get) continue;
      const url =
        path.startsWith('/v1/actions/') || path.startsWith('/v2/actions/')
          ? path.replace('{uid}', uid)
          : path.replace(/\{[a-z_]+\}/g, (p) => samples[p]!);
      check('GET', path, path.endsWith('/events') ? await streamHead(url) : await call('GET', url));
    }
    check(
      'DELETE',
      '/v1/cluster/actions/{action}',
      await call('DELETE', '/v1/cluster/actions/change_master'),
    );
    check(
      'POST',
      '/v1/users/authorize',
      await t.node.app.inject({
        method: 'POST',
        url: '/v1/users/authorize',
        headers: { authorization: adminAuth },
      }),
    );
    const created = await call('POST', '/v1/users', {
      email: 'doc@test.local',
      password: 'Password-123',
      role: 'db_viewer',
    });
    check('POST', '/v1/users', created);
    const userUid = created.json<{ uid: number }>().uid;
    check('PUT', '/v1/users/{uid}', await call('PUT', `/v1/users/${userUid}`, { role: 'db_member' }));
    check('DELETE', '/v1/users/{uid}', await call('DELETE', `/v1/users/${userUid}`));

    const all = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual(
      all.filter((op) => !checked.has(op)),
      [],
      'every documented operation was sampled',
    );
  });

  it('serves the browsable UI at /docs from the node itself (no CDN)', async () => {
    const page = await t.node.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.doesNotMatch(page.body, /https?:\/\/(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\/[^"']*\.(js|css)/i);
    for (const src of page.body.matchAll(/(?:src|href)="\.\/([^"]+\.(?:js|css))"/g)) {
      const asset = await t.node.app.inject({ method: 'GET', url: `/docs/${src[1]}` });
      assert.equal(asset.statusCode, 200, `/docs/${src[1]}`);
    }
    const init = await t.node.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.equal(init.statusCode, 200);
    assert.match(init.body, /\/v1\/openapi\.json/);
  });
});
