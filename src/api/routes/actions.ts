/** `/v1/actions`: every retained run, task-style, plus the (empty) state-machine list (re-api.md §2.3). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { ActionRun } from '../../actions/run.js';
import { BosunError } from '../../errors/catalogue.js';
import { BodyCache } from '../body-cache.js';
import { ActionRunBody, errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { toWireRun } from '../wire.js';

export function actionRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const bodies = new BodyCache(deps.view);
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
        bodies.send(reply, 'list', () => {
          const runs = deps.view.listJson<ActionRun>(deps.keys.actions);
          runs.sort((a, b) => a.creation_time - b.creation_time);
          return { actions: runs.map(toWireRun), 'state-machines': [] };
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
      async (request) => {
        const run = deps.view.getJson<ActionRun>(deps.keys.action(request.params.uid));
        if (!run) throw new BosunError('action_not_found', `No action with uid ${request.params.uid}.`);
        return toWireRun(run);
      },
    );
  };
}
