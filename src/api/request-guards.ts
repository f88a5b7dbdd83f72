/**
 * Checks every request passes before authentication, on every route and on the 404 handler alike.
 *
 * A missing Host header on HTTP/1.1 is a 400, as RFC 9112 §3.2 requires.
 *
 * Duplicated headers: Node keeps only the first of two `Authorization` headers (and of the other
 * singletons below) and drops the rest, so a request with two would be judged on one while a proxy in
 * front may have judged it on the other. Any header whose meaning is "the one value" is refused when
 * repeated: the credentials, the body's type and length, and the target host.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { sendError } from './error-handler.js';

/** Headers that must appear at most once (lower case). */
export const SINGLETON_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'content-type',
  'content-length',
  'host',
];

/** The first singleton header that `request` carries more than once. */
export function duplicatedHeader(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders;
  let seen: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!SINGLETON_HEADERS.includes(name)) continue;
    seen ??= [];
    if (seen.includes(name)) return name;
    seen.push(name);
  }
  return undefined;
}

export function installRequestGuards(app: FastifyInstance): void {
  // Fastify's own 503 while closing has its own body shape; this answers it from the catalogue.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onRequest', async (request, reply) => {
    if (closing) {
      void reply.header('connection', 'close');
      return sendError(reply, 'node_stopping');
    }
    // Node's own check (requireHostHeader, turned off in node/listeners.ts) answers with no body.
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return sendError(reply, 'malformed_request', 'An HTTP/1.1 request needs a Host header.');
    }
    const duplicated = duplicatedHeader(request);
    if (duplicated) {
      return sendError(reply, 'duplicate_header', `The request has more than one ${duplicated} header.`);
    }
  });

  // No response is cached anywhere: tokens, user records and cluster state are all per-caller and
  // change often; a token in a shared cache would be a credential leak.
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
