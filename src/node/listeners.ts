/**
 * A node's two listeners, HTTP and HTTPS, serving the same Fastify handler with the same limits:
 * header, request, keep-alive, idle and TLS-handshake timeouts, a header size bound, one connection
 * budget shared by both, and the raw-error listeners that answer what Node refuses before Fastify
 * (api/raw-error.ts). Node sets no request deadline that bites in practice by default (its header
 * and request timers are checked every 30 s, and a socket may idle forever), so a slow client could
 * hold a connection for minutes; these limits cut it off.
 */
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

import { MAX_HEADER_BYTES, type ListenerLimits } from '../api/limits.js';
import { handleClientError, handleConnect, handleUnmetExpectation } from '../api/raw-error.js';

/** Counts open connections across both listeners and closes any beyond the limit at once. */
export class ConnectionBudget {
  #open = 0;
  /** Connections closed on arrival because the budget was spent (for logs and tests). */
  refused = 0;

  constructor(readonly max: number) {}

  get open(): number {
    return this.#open;
  }

  admit(socket: Socket): void {
    if (this.#open >= this.max) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.#open++;
    socket.once('close', () => this.#open--);
  }
}

function serverOptions(limits: ListenerLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: MAX_HEADER_BYTES,
    // api/request-guards.ts makes the same check and answers in the catalogue's shape.
    requireHostHeader: false,
    // How often Node checks the two timers above: its 30 s default would let a slow client
    // outlive a short limit by that much.
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
    ),
  };
}

function harden(server: HttpServer | HttpsServer, limits: ListenerLimits, budget: ConnectionBudget): void {
  server.setTimeout(limits.idleTimeoutMs);
  server.on('connection', (socket: Socket) => budget.admit(socket));
  server.on('checkExpectation', handleUnmetExpectation);
  server.on('connect', handleConnect);
}

export interface Listeners {
  readonly http: HttpServer;
  readonly https: HttpsServer;
  readonly budget: ConnectionBudget;
}

export function createListeners(
  handler: RequestListener,
  tls: { readonly key: string; readonly cert: string },
  limits: ListenerLimits,
): Listeners {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(
      `the headers timeout (${limits.headersTimeoutMs} ms) cannot exceed the request timeout (${limits.requestTimeoutMs} ms)`,
    );
  }
  const budget = new ConnectionBudget(limits.maxConnections);
  const http = createHttpServer(serverOptions(limits), handler);
  const https = createHttpsServer(
    {
      ...serverOptions(limits),
      key: tls.key,
      cert: tls.cert,
      handshakeTimeout: limits.tlsHandshakeTimeoutMs,
    },
    handler,
  );
  harden(http, limits, budget);
  harden(https, limits, budget);
  // Fastify attaches the same listener to the server its factory returns (the HTTP one, see
  // api/server.ts); the HTTPS server needs it too, or it answers malformed requests with nothing.
  https.on('clientError', handleClientError);
  return { http, https, budget };
}
