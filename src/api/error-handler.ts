/**
 * The only place that renders error bodies: every 4xx and 5xx is `{"error_code", "description"}`
 * with a code from the catalogue (re-api.md §4.3).
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

import { NotMasterError } from '../cluster/master.js';
import { BosunError, errorCatalogue, type ErrorCode } from '../errors/catalogue.js';
import { StoreError } from '../store/errors.js';

export function sendError(reply: FastifyReply, code: ErrorCode, description?: string): FastifyReply {
  return reply
    .code(errorCatalogue[code].status)
    .type('application/json')
    .send({ error_code: code, description: description ?? errorCatalogue[code].description });
}

/** Names the field at fault: an unknown one by its name, a bad one by its path. */
function validationDescription(fe: FastifyError): string {
  const first = fe.validation?.[0];
  const where = fe.validationContext ?? 'request';
  const extra = first?.params?.additionalProperty;
  if (first?.keyword === 'additionalProperties' && typeof extra === 'string') {
    return `Invalid request: ${where} has a field Bosun does not accept: "${extra}".`;
  }
  return `Invalid request: ${fe.message}`;
}

function classify(err: FastifyError | Error): { code: ErrorCode; description?: string } {
  if (err instanceof BosunError) return { code: err.code, description: err.message };
  if (err instanceof StoreError || err instanceof NotMasterError) {
    return { code: 'store_unavailable', description: `The cluster store is unavailable: ${err.message}` };
  }
  const fe = err as FastifyError;
  if (fe.validation) return { code: 'invalid_schema', description: validationDescription(fe) };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'body_too_large', description: 'The request body is larger than 1 MiB.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        code: 'unsupported_media_type',
        description: `Unsupported Content-Type; send application/json.`,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'invalid_json', description: `The request body is not valid JSON: ${fe.message}` };
    default:
      break;
  }
  if (err instanceof SyntaxError || fe.statusCode === 400) {
    return { code: 'invalid_json', description: `The request body is not valid JSON: ${err.message}` };
  }
  if (fe.statusCode === 413) return { code: 'body_too_large' };
  if (fe.statusCode === 415) return { code: 'unsupported_media_type' };
  return { code: 'internal_error' };
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { code, description } = classify(err);
    if (errorCatalogue[code].status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, code, description);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'not_found', `No such resource: ${request.method} ${request.url.split('?')[0]}`),
  );
}
