/**
 * `GET /v1/cluster/actions/{name}` for a name with no run: a name a handler serves has its absence
 * confirmed by the store (a run submitted on another node a moment ago is shown, not a 404); a name
 * no handler serves can never have a run, so it is answered from memory and costs no store read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { adminAuth, startTestNode, type TestNode } from '../helpers/in-process-node.js';
import { sample } from '../helpers/prometheus.js';

describe('GET /v1/cluster/actions/{name} with no run', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(() => t?.stop());

  async function storeGets(): Promise<number> {
    return sample(await t.node.metrics!.registry.metrics(), 'bosun_store_operation_seconds_count', {
      op: 'get',
    });
  }

  async function getTimes(names: readonly string[]): Promise<number> {
    const before = await storeGets();
    for (const name of names) {
      const res = await t.node.app.inject({
        method: 'GET',
        url: `/v1/cluster/actions/${name}`,
        headers: { authorization: adminAuth },
      });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json<{ error_code: string }>().error_code, 'action_not_found');
    }
    return (await storeGets()) - before;
  }

  it('confirms the absence of a served name with the store, and answers made-up names from memory', async () => {
    const N = 40;
    const served = await getTimes(Array.from({ length: N }, () => 'change_master'));
    const madeUp = await getTimes(Array.from({ length: N }, (_, i) => `no_such_action_${i}`));
    assert.ok(served >= N, `every miss of change_master reads the store (${served} reads)`);
    assert.ok(madeUp < N / 4, `made-up names read the store ${madeUp} times for ${N} requests`);
  });
});
