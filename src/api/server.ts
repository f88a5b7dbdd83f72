/**
 * buildServer(deps): the Fastify app, wired but never listening, so tests drive it with inject().
 *
 * Request lifecycle, and which stage answers what:
 * 1. onRequest: authentication (401) and the route's permission (403); then whether this node's view
 *    of the cluster can be trusted (503 `store_unavailable` when the store is out of reach).
 * 0. Before Fastify: Node's parser and timers; what they refuse is answered by raw-error.ts (400
 *    `malformed_request`, 408, 417, 431). Before routing: a bad URL → 400 (`frameworkErrors`).
 * 1a. request-guards.ts: a node shutting down → 503 `node_stopping`; a repeated singleton header
 *    (two `Authorization`s) → 400 `duplicate_header`.
 * 2. Body parsing (json-body.ts): >1 MiB → 413; nesting deeper than MAX_JSON_DEPTH or a
 *    `__proto__` key → 400 `invalid_schema`; malformed JSON → 400 `invalid_json`; a non-JSON body → 415.
 * 3. Schema validation → 400 `invalid_schema`.
 * 4. The handler: 404/406/409 from the domain, as BosunError.
 * 5. Any error → the error handler, the only place that renders `{"error_code", "description"}`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerFactory,
} from 'fastify';

import type { IdempotentSubmitter } from '../actions/idempotency.js';
import type { Preflight } from '../actions/preflight.js';
import type { ActionSubmitter } from '../actions/submit.js';
import type { EventLog } from '../cluster/event-log.js';
import type { ClusterKeys } from '../cluster/keys.js';
import type { MasterStatus } from '../cluster/master.js';
import type { ClusterState } from '../cluster/state.js';
import type { ClusterView } from '../cluster/view.js';
import type { BosunMetrics } from '../metrics/metrics.js';
import type { UserDirectory } from '../users/user-directory.js';
import type { Authenticator, Principal } from './auth/authenticator.js';
import { roleHas, type Permission } from './auth/permissions.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import type { TokenService } from './auth/tokens.js';
import { authScheme, installAudit, isFailedLogin } from './audit.js';
import { frameworkError, installErrorHandling, sendError } from './error-handler.js';
import { dryRunRequested } from './dry-run.js';
import { parseJsonBody } from './json-body.js';
import { BODY_LIMIT, MAX_PARAM_LENGTH } from './limits.js';
import { handleClientError } from './raw-error.js';
import { installLingeringClose } from './lingering-close.js';
import { installRequestGuards } from './request-guards.js';
import { installClusterCors } from './cluster-cors.js';
import { openApiRoutes, registerOpenApi } from './openapi.js';
import { actionRoutes } from './routes/actions.js';
import { clusterActionRoutes } from './routes/cluster-actions.js';
import { clusterRoutes } from './routes/cluster.js';
import { eventRoutes } from './routes/events.js';
import { credentialsOf } from './sse/stream-credentials.js';
import { logsRoutes } from './routes/logs.js';
import { metricsRoutes } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';
import { statsRoutes } from './routes/stats.js';
import { uiRoutes } from './routes/ui.js';
import { whoamiRoutes } from './routes/whoami.js';
import { unmodelledRoutes } from './routes/unmodelled.js';
import { userRoutes } from './routes/users.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a route requires; routes without one are public. */
    permission?: Permission;
    /** Answers even when this node cannot reach the store: it reports on this node itself. */
    local?: boolean;
    /**
     * The permission a `?dry_run=true` request needs instead (dry-run.ts). A dry run also answers
     * when the store is out of reach: reporting that is one of its checks.
     */
    dryRunPermission?: Permission;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    /** Every route and the permission it requires: the authorization matrix test walks it. */
    bosunRoutes: readonly RouteSummary[];
  }
}

export interface RouteSummary {
  readonly method: string;
  readonly url: string;
  readonly permission: Permission | undefined;
  readonly dryRunPermission?: Permission | undefined;
}

export { BODY_LIMIT } from './limits.js';

export interface ApiDeps {
  readonly view: ClusterView;
  readonly keys: ClusterKeys;
  readonly state: ClusterState;
  readonly submitter: ActionSubmitter;
  /** Dry runs of cluster actions (`?dry_run=true`). */
  readonly preflight: Preflight;
  /** Submits honouring `Idempotency-Key`. */
  readonly idempotent: IdempotentSubmitter;
  readonly users: UserDirectory;
  readonly authenticator: Authenticator;
  readonly tokens: TokenService;
  readonly log: FastifyBaseLogger;
  /** Whether this node can vouch for its view: joined, with a lease that is certainly alive. */
  readonly healthy: () => boolean;
  /** This node's uid, for the `/v1/local/...` endpoints. */
  readonly selfUid: number;
  /**
   * What this node can truthfully say of its own role (cluster/master.ts, MasterStatus): only
   * `master` makes it say it is master.
   */
  readonly selfMasterStatus: () => MasterStatus;
  /** While this node says master: since when, without a break (unix ms). */
  readonly selfMasterSince: () => number | undefined;
  /** This node's metrics: served at `/metrics` and fed with HTTP figures. (Default: none) */
  readonly metrics?: BosunMetrics | undefined;
  /** Whether `/metrics` needs the `view_all_metrics` permission. (Default: false) */
  readonly metricsAuth?: boolean | undefined;
  /** The cluster event log: served at `/v1/logs` and fed with request events. (Default: none) */
  readonly events?: EventLog | undefined;
}

export interface BuildOptions {
  /** Lets the node serve the same app on HTTP and HTTPS (see node/listeners.ts). */
  readonly serverFactory?: FastifyServerFactory;
}

export async function buildServer(deps: ApiDeps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log,
    // Per-request lines would dominate the log and the CPU profile; errors are still logged.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: BODY_LIMIT,
    // Request ids (request-id.ts): the client's X-Request-ID when acceptable, else a UUID; Fastify binds
    // it to request.log, so every log line about the request names it.
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
    // request-guards.ts answers requests that arrive while closing, in the catalogue's shape.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
    // Attached by Fastify to the HTTP server; node/listeners.ts attaches it to the HTTPS one.
    clientErrorHandler: handleClientError,
    // Reject rather than repair: an unknown field or a wrongly typed one is a 400, never silently
    // dropped or coerced (`role: ["admin"]` must not become "admin").
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandling(app);
  // First of all hooks, so every answer carries the id, errors included.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  installRequestGuards(app);
  // Before authentication, so a refusal reaches the dashboard on another node too (cluster-cors.ts).
  installClusterCors(app, deps.state);
  installLingeringClose(app);

  // JSON is the only body type the API takes; anything else is a 415. An empty JSON body is "no
  // body", not an error: clients send the header on bodiless requests.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    const dryRun = config.dryRunPermission !== undefined && dryRunRequested(request.query);
    const permission = dryRun ? config.dryRunPermission : config.permission;
    if (!permission) return;
    const principal = await deps.authenticator.authenticate(credentialsOf(request), request.ip);
    if (!principal) {
      void reply.header('www-authenticate', 'Basic realm="bosun"');
      return sendError(reply, 'unauthorized');
    }
    if (!roleHas(principal.role, permission)) {
      return sendError(
        reply,
        'unauthorized_action',
        `Role ${principal.role} lacks the ${permission} permission.`,
      );
    }
    if (!config.local && !dryRun && !deps.healthy()) {
      return sendError(
        reply,
        'store_unavailable',
        'This node cannot reach the cluster store right now; try again shortly.',
      );
    }
    request.principal = principal;
  });

  const routes: RouteSummary[] = [];
  app.decorate('bosunRoutes', routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      // HEAD routes are Fastify's automatic twins of the GET routes.
      if (method !== 'HEAD') {
        const { permission, dryRunPermission } = r.config ?? {};
        routes.push({ method, url: r.url, permission, ...(dryRunPermission ? { dryRunPermission } : {}) });
      }
    }
  });
  // Before every route, so the document sees them all (openapi.ts).
  await registerOpenApi(app);

  const metrics = deps.metrics;
  if (metrics) {
    // Route patterns, not URLs, so label cardinality stays bounded; unmatched URLs share one label.
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const status = reply.statusCode;
      metrics.httpRequests.inc({ method: request.method, route, status });
      metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
      if (isFailedLogin(request, status)) metrics.loginFailures.inc({ scheme: authScheme(request) });
      done();
    });
    await app.register(metricsRoutes(metrics, deps.metricsAuth ?? false));
  }

  if (deps.events) {
    installAudit(app, deps.events, deps.users, deps.selfUid);
    await app.register(logsRoutes(deps.events));
  }

  await app.register(clusterActionRoutes(deps));
  await app.register(actionRoutes(deps));
  await app.register(eventRoutes(deps));
  await app.register(nodeRoutes(deps));
  await app.register(clusterRoutes(deps));
  await app.register(userRoutes(deps));
  await app.register(statsRoutes(deps));
  await app.register(unmodelledRoutes(deps));
  await app.register(openApiRoutes);
  await app.register(whoamiRoutes);
  await app.register(uiRoutes(deps));
  return app;
}
