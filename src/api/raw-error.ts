/**
 * Catalogue errors for the requests that never reach Fastify: a request line or header block Node's
 * parser refuses, a request too slow to arrive, an `Expect:` other than 100-continue, a CONNECT. Node
 * answers these itself, with an empty or plain-text body, unless the server listens for them; these
 * listeners answer with the same `{"error_code", "description"}` body as every other error, on the
 * HTTP and the HTTPS listener alike (node/listeners.ts attaches them).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import { errorCatalogue, type ErrorCode } from '../errors/catalogue.js';
import { statusOf } from './http-errors.js';
import { MAX_HEADER_BYTES } from './limits.js';

/** The JSON body of an error answer. */
export function errorBodyText(code: ErrorCode, description?: string): string {
  return JSON.stringify({ error_code: code, description: description ?? errorCatalogue[code].description });
}

/** A whole HTTP/1.1 error response, for writing straight to a socket; the connection closes after it. */
export function rawErrorResponse(code: ErrorCode, description?: string): string {
  const body = errorBodyText(code, description);
  const status = statusOf(code);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\n' +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Writes the response, then closes: at once when flushed, or after a second for a client not reading. */
function answerAndClose(socket: Duplex, response: string): void {
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref();
  socket.end(response, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

/** The catalogue code for an error Node's HTTP parser or its timers raised on a connection. */
export function classifyClientError(err: Error & { code?: string }): {
  code: ErrorCode;
  description: string;
} {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        code: 'headers_too_large',
        description: `The request line and headers are larger than ${MAX_HEADER_BYTES / 1024} KiB.`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        code: 'request_timeout',
        description:
          'The request headers or body did not arrive within the time limit; the connection is closed.',
      };
    case 'HPE_INVALID_METHOD':
      return { code: 'malformed_request', description: 'The request method is not one HTTP/1.1 knows.' };
    default: {
      // llhttp's codes are fixed names (HPE_INVALID_HEADER_TOKEN, ...): safe to quote, and precise.
      const name = typeof err.code === 'string' && /^[A-Z_]{1,40}$/.test(err.code) ? ` (${err.code})` : '';
      return { code: 'malformed_request', description: `The request is not well-formed HTTP/1.1${name}.` };
    }
  }
}

/** The server's 'clientError' listener. */
export function handleClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // As Node itself: answer only when no response to this connection has begun, or the bytes would
  // corrupt it.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { code, description } = classifyClientError(err);
  answerAndClose(socket, rawErrorResponse(code, description));
}

/** The server's 'checkExpectation' listener: any `Expect:` but 100-continue. */
export function handleUnmetExpectation(_req: IncomingMessage, res: ServerResponse): void {
  const body = errorBodyText('expectation_failed');
  res.shouldKeepAlive = false;
  res.writeHead(statusOf('expectation_failed'), {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** The server's 'connect' listener: Bosun is no proxy; without a listener Node drops the socket silently. */
export function handleConnect(_req: IncomingMessage, socket: Duplex): void {
  answerAndClose(
    socket,
    rawErrorResponse('method_not_allowed', 'CONNECT is not allowed: this is an API server, not a proxy.'),
  );
}
