/**
 * `X-Bosun-Revision` on every answer: the store revision this node's view had reached when the
 * request arrived. The view only moves forward, so whatever the handler read from it is at least that
 * recent. A client that also follows the event stream (whose event ids are the same revisions) can
 * tell a snapshot older than an event it has already applied, and must not let it take the state
 * back: the dashboard reloads such a snapshot instead of applying it (ui/src/session.ts).
 *
 * Read when the request arrives, not when the answer leaves: a later reading could name a revision
 * the handler never saw, and an old snapshot would pass for a current one.
 */
import type { FastifyInstance } from 'fastify';

export const REVISION_HEADER = 'x-bosun-revision';

export function installViewRevision(app: FastifyInstance, view: { readonly revision: number }): void {
  app.addHook('onRequest', (_request, reply, done) => {
    // On the raw response, like the CORS headers: streams and hand-written errors carry it too.
    reply.raw.setHeader(REVISION_HEADER, String(view.revision));
    done();
  });
}
