/**
 * `/v1/actions`: every retained run as a task entry, plus the (empty) state-machine list; and `/v2/actions`,
 * the same runs as RE 7.22's v2 objects in a bare array (docs/re-contract.md, "Generic actions endpoints").
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { parseHistoryQuery } from '../../actions/history-query.js';
import type { RunReadModel, RunSnapshot, RunVersion } from '../../actions/run-read-model.js';
import { BosunError } from '../../errors/catalogue.js';
import { BodyCache, sendJsonText } from '../body-cache.js';
import { HistoryQueryString } from '../history.js';
import { RunJsonCache } from '../run-json-cache.js';
import { ActionTaskBody, V2ActionBody, errorResponses } from '../schemas.js';
import { installRunWaiter, parseWait, WaitQuery } from '../wait-param.js';
import { toWireTask, toWireV2Action } from '../wire.js';

const ActionUidParams = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64 }) });

export interface ActionRoutesOptions {
  readonly runs: RunReadModel;
}

export const actionRoutes: FastifyPluginAsyncTypebox<ActionRoutesOptions> = async (app, { runs }) => {
  const bodies = new BodyCache(runs);
  const waitFor = installRunWaiter(app, runs);
  const tasks = new RunJsonCache(runs, toWireTask);
  const v2 = new RunJsonCache(runs, toWireV2Action);
  const taskJson = (ref: RunVersion | RunSnapshot): string => tasks.json(ref);
  const v2Json = (ref: RunVersion | RunSnapshot): string => v2.json(ref);
  const one = async (uid: string): Promise<RunSnapshot> => {
    const found = await runs.confirmed(uid);
    if (!found) throw new BosunError('action_not_found', `No action with uid ${uid}.`);
    return found;
  };

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
          () => `{"actions":[${runs.history().map(taskJson).join(',')}],"state-machines":[]}`,
        );
      }
      const page = runs.search(query);
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
      return sendJsonText(reply, tasks.json(await one(request.params.uid)));
    },
  );

  app.get(
    '/v2/actions',
    {
      config: { permission: 'view_status_of_cluster_action' },
      schema: { response: { 200: Type.Array(V2ActionBody), ...errorResponses } },
    },
    async (_request, reply) =>
      bodies.sendSerialized(reply, 'v2-list', () => `[${runs.history().map(v2Json).join(',')}]`),
  );

  app.get(
    '/v2/actions/:uid',
    {
      config: { permission: 'view_status_of_cluster_action' },
      schema: { params: ActionUidParams, response: { 200: V2ActionBody, ...errorResponses } },
    },
    async (request, reply) => sendJsonText(reply, v2.json(await one(request.params.uid))),
  );
};
