/** `/v1/cluster/actions`: the seed's four methods (re-api.md §1). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { IDEMPOTENCY_KEY_HEADER } from '../../actions/idempotency.js';
import { runKey } from '../../actions/run.js';
import { BosunError } from '../../errors/catalogue.js';
import { roleHas } from '../auth/permissions.js';
import { ActionPostQuery, dryRunRequested } from '../dry-run.js';
import { BodyCache } from '../body-cache.js';
import { ActionNameParams, ActionRunBody, ConflictBody, PreflightBody, errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { installRunWaiter, parseWait, WaitQuery } from '../wait-param.js';
import { toWireRun, type WireRun } from '../wire.js';

export function clusterActionRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const bodies = new BodyCache(deps.view);
  return async (app) => {
    const waitFor = installRunWaiter(app, deps.view, deps.keys);
    app.get(
      '/v1/cluster/actions',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: { response: { 200: Type.Object({ actions: Type.Array(ActionRunBody) }), ...errorResponses } },
      },
      async (_request, reply) =>
        bodies.send(reply, 'list', () => {
          const actions: WireRun[] = [];
          for (const pointer of deps.view.list(deps.keys.clusterActions)) {
            const run = deps.view.read(runKey(deps.keys, pointer.value));
            if (run) actions.push(toWireRun(run));
          }
          return { actions };
        }),
    );

    app.get(
      '/v1/cluster/actions/:action',
      {
        config: { permission: 'view_status_of_cluster_action' },
        schema: {
          params: ActionNameParams,
          querystring: WaitQuery,
          response: { 200: ActionRunBody, ...errorResponses },
        },
      },
      async (request, reply) => {
        const ms = parseWait(request.query.wait);
        const waitingOn = deps.submitter.latest(request.params.action)?.action_uid;
        if (waitingOn !== undefined) await waitFor(reply, waitingOn, ms);
        return bodies.send(reply, `one:${request.params.action}`, () => {
          const run = deps.submitter.latest(request.params.action);
          if (!run) {
            throw new BosunError(
              'action_not_found',
              `Action ${request.params.action} is not running and has no status from a last run.`,
            );
          }
          return toWireRun(run);
        });
      },
    );

    app.post(
      '/v1/cluster/actions/:action',
      {
        config: { permission: 'start_cluster_action', dryRunPermission: 'view_status_of_cluster_action' },
        schema: {
          params: ActionNameParams,
          querystring: ActionPostQuery,
          response: { 200: Type.Union([ActionRunBody, PreflightBody]), ...errorResponses, 422: ConflictBody },
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        // Who asked: the email, or the name of a user who has none.
        const requester = principal?.email || principal?.name;
        if (dryRunRequested(request.query)) {
          return deps.preflight.run(request.params.action, request.body, {
            name: requester,
            role: principal?.role ?? 'none',
            mayStart: principal !== undefined && roleHas(principal.role, 'start_cluster_action'),
          });
        }
        const { run, replayed } = await deps.idempotent.submit(request.params.action, request.body, {
          requester,
          requestId: request.id,
          scope: principal ? String(principal.uid) : '',
          key: request.headers[IDEMPOTENCY_KEY_HEADER],
        });
        if (replayed) void reply.header('idempotent-replayed', 'true');
        return toWireRun(run);
      },
    );

    app.delete(
      '/v1/cluster/actions/:action',
      {
        config: { permission: 'cancel_cluster_action' },
        schema: { params: ActionNameParams, response: { 200: ActionRunBody, ...errorResponses } },
      },
      async (request) => {
        const { run, result } = await deps.submitter.cancel(request.params.action);
        request.audit = { result };
        return toWireRun(run);
      },
    );
  };
}
