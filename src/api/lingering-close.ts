/**
 * Lingering close (RFC 9112 §9.6): an answer sent before the request's body was read (a 404 for a
 * GET with a body, a 413 refused on its Content-Length, a 401 before a POST's body) must not be lost.
 * If the server closed the socket with the client's bytes still unread, the kernel would answer them
 * with a reset, and a reset discards the answer the client had not read yet: the client would see
 * "connection reset" instead of the error. Node 24 closes such sockets at once; Node 20 happened to
 * read the rest first. So before the answer goes out, the rest of the body is read and dropped,
 * within bounds: at most LINGER_MAX_BYTES and LINGER_MAX_MS, after which the answer goes regardless.
 */
import type { FastifyInstance } from 'fastify';

import { BODY_LIMIT } from './limits.js';

/** Bodies up to twice the body limit are drained; beyond, the client is sending far too much anyway. */
export const LINGER_MAX_BYTES = 2 * BODY_LIMIT;
/** How long the drain may take (a trickling client is not waited for). */
export const LINGER_MAX_MS = 1000;

export function installLingeringClose(app: FastifyInstance): void {
  app.addHook('onSend', async (request, _reply, payload) => {
    const raw = request.raw;
    if (raw.complete || raw.readableEnded || raw.destroyed) return payload;
    await new Promise<void>((resolve) => {
      let seen = 0;
      const done = (): void => {
        clearTimeout(timer);
        raw.off('data', onData);
        raw.off('end', done);
        raw.off('error', done);
        raw.off('close', done);
        resolve();
      };
      const onData = (chunk: Buffer): void => {
        seen += chunk.length;
        if (seen > LINGER_MAX_BYTES) done();
      };
      const timer = setTimeout(done, LINGER_MAX_MS);
      raw.on('data', onData);
      raw.once('end', done);
      raw.once('error', done);
      raw.once('close', done);
      raw.resume();
    });
    return payload;
  });
}
