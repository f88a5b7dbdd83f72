/**
 * The credentials of a request: its `Authorization` header, or, on the event streams only, a
 * `?access_token=<jwt>` (browsers' EventSource cannot send headers). The token is taken as a Bearer
 * token, so it gets exactly the checks a header would. Nothing logs request URLs (api/server.ts turns
 * request logging off; the audit and the metrics name route patterns), so the token is never logged.
 */
import type { FastifyRequest } from 'fastify';

export function credentialsOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined || !request.routeOptions.config.stream) return header;
  const token = (request.query as { access_token?: unknown } | undefined)?.access_token;
  return typeof token === 'string' && token !== '' ? `Bearer ${token}` : undefined;
}
