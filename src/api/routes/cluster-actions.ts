/** `/v1/cluster/actions`: the seed's four methods (docs/re-contract.md, "Cluster actions"). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { IDEMPOTENCY_KEY_HEADER, type IdempotentSubmitter } from '../../actions/idempotency.js';
import type { Preflight } from '../../actions/preflight.js';
import type { RunReadModel } from '../../actions/run-read-model.js';
import type { ActionSubmitter } from '../../actions/submit.js';
import { BosunError } from '../../errors/catalogue.js';
import { roleHas } from '../auth/permissions.js';
import { BodyCache } from '../body-cache.js';
import { ActionPostQuery, dryRunRequested } from '../dry-run.js';
import { ActionNameParams, ActionRunBody, ConflictBody, PreflightBody, errorResponses } from '../schemas.js';
import { installRunWaiter, parseWait, WaitQuery } from '../wait-param.js';
import { toWireRun } from '../wire.js';

export interface ClusterActionRoutesOptions {
  readonly runs: RunReadModel;
  readonly submitter: ActionSubmitter;
  /** Dry runs (`?dry_run=true`). */
  readonly preflight: Preflight;
  /** Submits honouring `Idempotency-Key`. */
  readonly idempotent: IdempotentSubmitter;
}

export const clusterActionRoutes: FastifyPluginAsyncTypebox<ClusterActionRoutesOptions> = async (
  app,
  { runs, submitter, preflight, idempotent },
) => {
  const bodies = new BodyCache(runs);
  const waitFor = installRunWaiter(app, runs);
  app.get(
    '/v1/cluster/actions',
    {
      config: { permission: 'view_status_of_cluster_action' },
      schema: { response: { 200: Type.Object({ actions: Type.Array(ActionRunBody) }), ...errorResponses } },
    },
    async (_request, reply) =>
      bodies.send(reply, 'list', () => ({ actions: runs.latestOfEach().map(toWireRun) })),
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
      const name = request.params.action;
      // The view's absence is confirmed by the store before a 404 (a run submitted elsewhere a moment
      // ago), but only for a name a handler serves: no other name can have a run, so a flood of
      // made-up names costs no store read.
      const latest =
        runs.latest(name) ?? (submitter.supports(name) ? await runs.settledLatest(name) : undefined);
      if (latest !== undefined) await waitFor(reply, latest.action_uid, ms);
      return bodies.send(reply, `one:${name}`, () => {
        const run = runs.latest(name);
        if (!run) {
          throw new BosunError(
            'action_not_found',
            `Action ${name} is not running and has no status from a last run.`,
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
        return preflight.run(request.params.action, request.body, {
          name: requester,
          role: principal?.role ?? 'none',
          mayStart: principal !== undefined && roleHas(principal.role, 'start_cluster_action'),
        });
      }
      const { run, replayed } = await idempotent.submit(request.params.action, request.body, {
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
      const { run, result } = await submitter.cancel(request.params.action);
      request.audit = { result };
      return toWireRun(run);
    },
  );
};
