/** `/v1/actions`: every retained run, task-style, plus the (empty) state-machine list (re-api.md §2.3). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { ActionRun } from '../../actions/run.js';
import type { KeyValue } from '../../store/types.js';
import { BosunError } from '../../errors/catalogue.js';
import { BodyCache, sendJsonText } from '../body-cache.js';
import { ActionRunBody, errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { toWireRun } from '../wire.js';

export function actionRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const bodies = new BodyCache(deps.view);
  // Each run's wire JSON, kept until the run changes: a list of 10,000 runs is then joined rather
  // than serialised again whenever any one of them moves.
  const serialized = new Map<string, { modRevision: number; json: string }>();
  const runJson = (kv: KeyValue): string => {
    const hit = serialized.get(kv.key);
    if (hit?.modRevision === kv.modRevision) return hit.json;
    const json = JSON.stringify(toWireRun(deps.view.getJson<ActionRun>(kv.key)!));
    // Pruned runs would otherwise stay here forever; rebuilding on growth keeps it to the live set.
    if (serialized.size > 2 * deps.view.list(deps.keys.actions).length + 100) serialized.clear();
    serialized.set(kv.key, { modRevision: kv.modRevision, json });
    return json;
  };
  return async (app) => {
    app.get(
      '/v1/actions',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: {
          response: {
            200: Type.Object({
              actions: Type.Array(ActionRunBody),
              'state-machines': Type.Array(Type.Unknown()),
            }),
            ...errorResponses,
          },
        },
      },
      async (_request, reply) =>
        bodies.sendSerialized(reply, 'list', () => {
          // In submission order: the store revision that created each run (creation_time has only
          // whole seconds, so runs submitted in the same second would come out in uuid order).
          const kvs = [...deps.view.list(deps.keys.actions)].sort(
            (a, b) => a.createRevision - b.createRevision,
          );
          return `{"actions":[${kvs.map(runJson).join(',')}],"state-machines":[]}`;
        }),
    );

    app.get(
      '/v1/actions/:uid',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: {
          params: Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 200: ActionRunBody, ...errorResponses },
        },
      },
      async (request, reply) => {
        const kv = deps.view.get(deps.keys.action(request.params.uid));
        if (!kv) throw new BosunError('action_not_found', `No action with uid ${request.params.uid}.`);
        return sendJsonText(reply, runJson(kv));
      },
    );
  };
}
