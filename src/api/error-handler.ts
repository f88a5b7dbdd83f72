/**
 * The only place that renders error bodies inside Fastify: every 4xx and 5xx is `{"error_code",
 * "description"}` with a code from the catalogue (docs/re-contract.md, "Errors"). What Node answers before
 * Fastify sees a request goes through raw-error.ts, in the same shape.
 *
 * Every Fastify error that can reach a client (its FST_ERR_* codes with a 4xx status) is mapped
 * below; anything else with a 4xx status is mapped by status, so no framework-shaped body leaves.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { BosunError, errorCatalogue, type ErrorCode } from '../errors/catalogue.js';
import { preview, truncate } from '../errors/preview.js';
import { classifyDomainError, statusOf } from './http-errors.js';
import { BODY_LIMIT, MAX_DESCRIPTION_CHARS, MAX_PARAM_LENGTH } from './limits.js';

export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  description?: string,
  details?: Readonly<Record<string, unknown>>,
): FastifyReply {
  return (
    reply
      .code(statusOf(code))
      .type('application/json; charset=utf-8')
      // Here too, not only in request-guards.ts: errors raised before routing skip the hooks.
      .header('cache-control', 'no-store')
      .send({
        ...details,
        error_code: code,
        // Whatever a description quotes, it stays small.
        description: truncate(description ?? errorCatalogue[code].description, MAX_DESCRIPTION_CHARS),
      })
  );
}

/** The catalogue code for a status no specific mapping covers (client errors only). */
const byStatus: Readonly<Record<number, ErrorCode>> = {
  400: 'malformed_request',
  401: 'unauthorized',
  403: 'unauthorized_action',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  431: 'headers_too_large',
};

/** Names the field at fault: an unknown one by its name, a bad one by its path. */
function validationDescription(fe: FastifyError): string {
  const first = fe.validation?.[0];
  const where = fe.validationContext ?? 'request';
  const extra = first?.params?.additionalProperty;
  if (first?.keyword === 'additionalProperties' && typeof extra === 'string') {
    // The name is the client's: quoted short (a 1 MiB key must not come back whole).
    return `Invalid request: ${where} has a field Bosun does not accept: ${preview(extra)}.`;
  }
  return `Invalid request: ${fe.message}`;
}

export function classify(err: FastifyError | Error): { code: ErrorCode; description?: string } {
  const domain = classifyDomainError(err);
  if (domain) return domain;
  const fe = err as FastifyError;
  if (fe.validation) return { code: 'invalid_schema', description: validationDescription(fe) };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        code: 'body_too_large',
        description: `The request body is larger than ${BODY_LIMIT / 1024 / 1024} MiB.`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return {
        code: 'unsupported_media_type',
        description: 'Unsupported Content-Type; send application/json.',
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        code: 'malformed_request',
        description: 'The request body is not as long as its Content-Length header says.',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'invalid_json' };
    case 'FST_ERR_BAD_URL':
      return {
        code: 'malformed_request',
        description:
          'The URL has a bad percent-encoding (a % not followed by two hex digits, or bytes that are not UTF-8).',
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        code: 'invalid_schema',
        description: `A path segment is longer than ${MAX_PARAM_LENGTH} characters.`,
      };
    case 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE':
      return {
        code: 'unsupported_media_type',
        description: 'This request needs Content-Type: application/json.',
      };
    default:
      break;
  }
  // A client that goes away mid-body, or a stream error while reading it.
  if (fe.code === 'ECONNRESET' || fe.code === 'ECONNABORTED' || err.message === 'aborted') {
    return { code: 'malformed_request', description: 'The request body ended before it was complete.' };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  const code = status >= 400 && status < 500 ? (byStatus[status] ?? 'malformed_request') : 'internal_error';
  return { code };
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { code, description } = classify(err);
    if (err instanceof BosunError && err.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(err.retryAfterSeconds));
    }
    if (statusOf(code) >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, code, description, err instanceof BosunError ? err.details : undefined);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      'not_found',
      `No such resource: ${request.method} ${truncate(request.url.split('?')[0] ?? '', 128)}`,
    ),
  );
}

/** Fastify's `frameworkErrors` option: errors it raises before routing (bad URL, path too long). */
export function frameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { code, description } = classify(err);
  void sendError(reply, code, description);
}
