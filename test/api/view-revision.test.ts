/**
 * `X-Bosun-Revision` (src/api/view-revision.ts): every answer names the store revision the node's
 * view had reached when the request arrived, so a client that follows the event stream can tell a
 * snapshot older than an event it has applied (the dashboard's test holds such a snapshot back).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { adminAuth, startTestNode, type TestNode } from '../helpers/in-process-node.js';

describe('X-Bosun-Revision', () => {
  let t: TestNode;
  const get = (url: string, headers: Record<string, string> = { authorization: adminAuth }) =>
    t.node.app.inject({ method: 'GET', url, headers });
  const revisionOf = (res: { headers: Record<string, unknown> }): number => {
    const raw = res.headers['x-bosun-revision'];
    assert.equal(typeof raw, 'string', 'the answer carries X-Bosun-Revision');
    assert.match(raw as string, /^[0-9]+$/);
    return Number(raw);
  };

  before(async () => {
    t = await startTestNode();
  });
  after(async () => {
    await t?.stop();
  });

  it('names a revision on every answer, and moves forward with each write', async () => {
    const first = revisionOf(await get('/v1/nodes'));
    assert.ok(first > 0, 'a running node has written at least its own records');
    const created = await t.node.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { authorization: adminAuth },
      payload: { email: 'rev@users.test', password: 'rev-password-1', name: 'Rev', role: 'db_viewer' },
    });
    assert.equal(created.statusCode, 200);
    // The directory answers its writer from the view (read-your-writes), so the next request sees it.
    const next = revisionOf(await get('/v1/nodes/status'));
    assert.ok(next > first, `${next} > ${first}`);
    assert.ok(revisionOf(await get('/v1/cluster')) >= next, 'never goes back');
  });

  it('is on errors too, and the cluster’s own origins may read it', async () => {
    revisionOf(await get('/v1/cluster', {}));
    revisionOf(await get('/v1/nodes/999'));
    const nodes = (await get('/v1/nodes')).json<{ cnm_http_port: number }[]>();
    const origin = `http://127.0.0.1:${nodes[0]!.cnm_http_port}`;
    const cross = await get('/v1/nodes', { authorization: adminAuth, origin });
    assert.match(String(cross.headers['access-control-expose-headers']), /\bx-bosun-revision\b/);
  });
});
