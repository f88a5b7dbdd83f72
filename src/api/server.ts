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

import type { ActionSubmitter } from '../actions/submit.js';
import type { IdempotentSubmitter } from '../actions/idempotency.js';
import type { Preflight } from '../actions/preflight.js';
import type { RunReadModel } from '../actions/run-read-model.js';
import type { ChangeFeed } from '../cluster/change-feed.js';
import type { ClusterReadModel } from '../cluster/cluster-read-model.js';
import type { EventLog } from '../cluster/event-log.js';
import type { BosunMetrics } from '../metrics/metrics.js';
import type { UserDirectory } from '../users/user-directory.js';
import type { Authenticator, Principal } from './auth/authenticator.js';
import { roleHas, type Permission } from './auth/permissions.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import type { TokenService } from './auth/tokens.js';
import { authScheme, installAudit, isFailedLogin } from './audit.js';
import { installClusterCors } from './cluster-cors.js';
import { dryRunRequested } from './dry-run.js';
import { frameworkError, installErrorHandling, sendError } from './error-handler.js';
import { parseJsonBody } from './json-body.js';
import { BODY_LIMIT, MAX_PARAM_LENGTH } from './limits.js';
import { handleClientError } from './raw-error.js';
import { installLingeringClose } from './lingering-close.js';
import { installRequestGuards } from './request-guards.js';
import { credentialsOf } from './sse/stream-credentials.js';
import { openApiRoutes, registerOpenApi } from './openapi.js';
import { actionRoutes } from './routes/actions.js';
import { clusterActionRoutes } from './routes/cluster-actions.js';
import { clusterRoutes } from './routes/cluster.js';
import { eventRoutes } from './routes/events.js';
import { logsRoutes } from './routes/logs.js';
import { metricsRoutes } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';
import { statsRoutes } from './routes/stats.js';
import { uiRoutes } from './routes/ui.js';
import { unmodelledRoutes } from './routes/unmodelled.js';
import { whoamiRoutes } from './routes/whoami.js';
import { userRoutes } from './routes/users.js';
import { installViewRevision } from './view-revision.js';

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

/**
 * What the API needs, built by the node (node/node.ts). Routes get their part of it as Fastify plugin
 * options, so no route file imports this one.
 */
export interface ApiDeps {
  /** The questions the API asks of the cluster: identity, nodes, roles (cluster/cluster-read-model.ts). */
  readonly cluster: ClusterReadModel;
  /** The questions the API asks about action runs (actions/run-read-model.ts). */
  readonly runs: RunReadModel;
  /** The cluster's changes as stream events, served at `/v1/events` (cluster/change-feed.ts). */
  readonly feed: ChangeFeed;
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
  const app = createApp(deps.log, options);
  installErrorHandling(app);
  // First of all hooks, so every answer carries the id, errors included.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  installViewRevision(app, deps.cluster);
  installRequestGuards(app);
  // Before authentication, so a refusal reaches the dashboard on another node too (cluster-cors.ts).
  installClusterCors(app, deps.cluster);
  installLingeringClose(app);
  installJsonBodies(app);
  installAuthentication(app, deps);

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
    installHttpMetrics(app, metrics);
    await app.register(metricsRoutes, { metrics, requireAuth: deps.metricsAuth ?? false });
  }
  if (deps.events) {
    installAudit(app, deps.events, deps.users, deps.cluster.selfUid);
    await app.register(logsRoutes, { events: deps.events });
  }

  const { cluster, runs } = deps;
  const { submitter, preflight, idempotent } = deps;
  await app.register(clusterActionRoutes, { runs, submitter, preflight, idempotent });
  await app.register(actionRoutes, { runs });
  await app.register(eventRoutes, { feed: deps.feed, runs, selfUid: cluster.selfUid });
  await app.register(nodeRoutes, { cluster, healthy: deps.healthy });
  await app.register(clusterRoutes, { cluster });
  await app.register(userRoutes, {
    users: deps.users,
    authenticator: deps.authenticator,
    tokens: deps.tokens,
  });
  await app.register(statsRoutes, { cluster });
  await app.register(unmodelledRoutes, { cluster });
  await app.register(openApiRoutes);
  await app.register(whoamiRoutes);
  await app.register(uiRoutes, { cluster });
  return app;
}

type App = ReturnType<typeof createApp>;

function createApp(log: FastifyBaseLogger, options: BuildOptions) {
  return Fastify({
    loggerInstance: log,
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
}

/**
 * JSON is the only body type the API takes; anything else is a 415. An empty JSON body is "no body",
 * not an error: clients send the header on bodiless requests.
 */
function installJsonBodies(app: App): void {
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
}

/** The route's permission: 401 without a user, 403 without the permission, 503 on a view it cannot vouch for. */
function installAuthentication(app: App, deps: ApiDeps): void {
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
}

/** HTTP figures per route pattern, not URL, so label cardinality stays bounded. */
function installHttpMetrics(app: App, metrics: BosunMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched URLs share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.httpRequests.inc({ method: request.method, route, status });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (isFailedLogin(request, status)) metrics.loginFailures.inc({ scheme: authScheme(request) });
    done();
  });
}
