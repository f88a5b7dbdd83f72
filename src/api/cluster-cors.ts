/**
 * Cross-origin reads between the cluster's own nodes, and no one else: when the dashboard's node
 * dies, the page goes on with another node (ui/src/session.ts), which is another origin (another
 * port or host). A request whose `Origin` is a member's (cluster-origins.ts) gets
 * `Access-Control-Allow-Origin` naming it; a preflight from such an origin is answered 204 here.
 *
 * Credentials travel in the `Authorization` header (or the stream's `?access_token=`), never in
 * cookies, and `Access-Control-Allow-Credentials` is never sent: a page from another origin cannot
 * borrow a browser's credentials, so this opens nothing to cross-site request forgery.
 *
 * The header is set on the raw response, before any hook can answer: Node merges it into whatever
 * head is written later, so errors (401, 403) and streams written by hand carry it too, and the page
 * can show the server's own error.
 */
import type { FastifyInstance } from 'fastify';

import type { ClusterReadModel } from '../cluster/cluster-read-model.js';
import { clusterOrigins } from './cluster-origins.js';

const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, last-event-id, x-request-id';
const ALLOW_METHODS = 'GET, POST, PUT, DELETE';

export function installClusterCors(app: FastifyInstance, cluster: Pick<ClusterReadModel, 'members'>): void {
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !clusterOrigins(cluster.members()).has(origin)) return done();
    reply.raw.setHeader('access-control-allow-origin', origin);
    reply.raw.setHeader('vary', 'Origin');
    reply.raw.setHeader(
      'access-control-expose-headers',
      'x-request-id, idempotent-replayed, x-bosun-revision',
    );
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      void reply
        .code(204)
        .header('access-control-allow-methods', ALLOW_METHODS)
        .header('access-control-allow-headers', ALLOW_HEADERS)
        .header('access-control-max-age', '600')
        .send();
      return;
    }
    done();
  });
}
