/**
 * `/v1/actions`: every retained run as a task entry, plus the (empty) state-machine list; and
 * `/v2/actions`, the same runs as RE 7.22's v2 objects in a bare array (re-api.md §2.3).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { parseHistoryQuery, queryHistory } from '../../actions/history-query.js';
import { actionRunRecord, type ActionRun } from '../../actions/run.js';
import type { KeyValue } from '../../store/types.js';
import { BosunError } from '../../errors/catalogue.js';
import { BodyCache, sendJsonText } from '../body-cache.js';
import { HistoryQueryString, orderedRuns } from '../history.js';
import { ActionTaskBody, V2ActionBody, errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { installRunWaiter, parseWait, WaitQuery } from '../wait-param.js';
import { toWireTask, toWireV2Action } from '../wire.js';

const ActionUidParams = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64 }) });

export function actionRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const bodies = new BodyCache(deps.view);
  // Each run's wire JSON per form, kept until the run changes: a list of 10,000 runs is then joined
  // rather than serialised again whenever any one of them moves.
  const jsonCache = (render: (run: ActionRun) => unknown) => {
    const serialized = new Map<string, { modRevision: number; json: string }>();
    return (kv: KeyValue): string => {
      const hit = serialized.get(kv.key);
      if (hit?.modRevision === kv.modRevision) return hit.json;
      // (A run read through from the store is not in the view yet: recordOf decodes its own value.)
      const json = JSON.stringify(render(deps.view.recordOf(kv, actionRunRecord)));
      // Pruned runs would otherwise stay here forever; rebuilding on growth keeps it to the live set.
      if (serialized.size > 2 * deps.view.list(deps.keys.actions).length + 100) serialized.clear();
      serialized.set(kv.key, { modRevision: kv.modRevision, json });
      return json;
    };
  };
  const taskJson = jsonCache(toWireTask);
  const v2Json = jsonCache(toWireV2Action);
  // In submission order: the store revision that created each run (creation_time has only whole
  // seconds, so runs submitted in the same second would come out in uuid order).
  const runsInOrder = orderedRuns(deps.view, deps.keys.actions);
  // A run the view lacks may have been accepted elsewhere moments ago: confirmed by the store first.
  const one = async (uid: string): Promise<KeyValue> => {
    const kv = await deps.view.getConfirmed(deps.keys.action(uid));
    if (!kv) throw new BosunError('action_not_found', `No action with uid ${uid}.`);
    return kv;
  };

  return async (app) => {
    const waitFor = installRunWaiter(app, deps.view, deps.keys);
    app.get(
      '/v1/actions',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: {
          querystring: HistoryQueryString,
          response: {
            200: Type.Object({
              actions: Type.Array(ActionTaskBody),
              'state-machines': Type.Array(Type.Unknown()),
              next_cursor: Type.Optional(Type.String()),
            }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const query = parseHistoryQuery(request.query);
        // No history parameter: today's answer, every retained run (what RE clients expect).
        if (!query) {
          return bodies.sendSerialized(
            reply,
            'list',
            () => `{"actions":[${runsInOrder().map(taskJson).join(',')}],"state-machines":[]}`,
          );
        }
        const page = queryHistory(runsInOrder(), query, (kv) => deps.view.recordOf(kv, actionRunRecord));
        const next = page.nextCursor === undefined ? '' : `,"next_cursor":${JSON.stringify(page.nextCursor)}`;
        return sendJsonText(
          reply,
          `{"actions":[${page.runs.map(taskJson).join(',')}],"state-machines":[]${next}}`,
        );
      },
    );

    app.get(
      '/v1/actions/:uid',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: {
          params: ActionUidParams,
          querystring: WaitQuery,
          response: { 200: ActionTaskBody, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ms = parseWait(request.query.wait);
        await one(request.params.uid);
        await waitFor(reply, request.params.uid, ms);
        return sendJsonText(reply, taskJson(await one(request.params.uid)));
      },
    );

    app.get(
      '/v2/actions',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: { response: { 200: Type.Array(V2ActionBody), ...errorResponses } },
      },
      async (_request, reply) =>
        bodies.sendSerialized(reply, 'v2-list', () => `[${runsInOrder().map(v2Json).join(',')}]`),
    );

    app.get(
      '/v2/actions/:uid',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: { params: ActionUidParams, response: { 200: V2ActionBody, ...errorResponses } },
      },
      async (request, reply) => sendJsonText(reply, v2Json(await one(request.params.uid))),
    );
  };
}
