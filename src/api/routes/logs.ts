/**
 * `GET /v1/logs`: the cluster event log, as Redis Enterprise serves it: a JSON array of event objects
 * (`time`, `type`, `severity`, then fields by type), filtered by `stime`/`etime` (ISO 8601), in `order`
 * `asc` (the default) or `desc`, at most `limit` entries after skipping `offset`. Needs RE's
 * `view_logged_events` permission.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { EventLog } from '../../cluster/event-log.js';
import { BosunError } from '../../errors/catalogue.js';
import { errorResponses } from '../schemas.js';

export const EventEntryBody = Type.Object(
  {
    time: Type.String({ description: 'ISO 8601, UTC' }),
    type: Type.String(),
    severity: Type.String({ description: 'INFO, WARNING or ERROR' }),
  },
  { additionalProperties: true },
);

const LogsQuery = Type.Object(
  {
    stime: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601: no events before' })),
    etime: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601: no events after' })),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'an integer' })),
    offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'an integer' })),
  },
  { additionalProperties: false },
);

function isoTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // ISO 8601 date, optionally with a time; Date.parse alone would also take "March 3".
  const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value)
    : Number.NaN;
  if (Number.isNaN(t)) {
    throw new BosunError(
      'invalid_schema',
      `"${name}" must be an ISO 8601 time such as 2026-01-31T12:00:00Z.`,
    );
  }
  return t;
}

export interface LogsRoutesOptions {
  readonly events: EventLog;
}

export const logsRoutes: FastifyPluginAsyncTypebox<LogsRoutesOptions> = async (app, { events }) => {
  app.get(
    '/v1/logs',
    {
      config: { permission: 'view_logged_events' },
      schema: { querystring: LogsQuery, response: { 200: Type.Array(EventEntryBody), ...errorResponses } },
    },
    async (request) => {
      const q = request.query;
      return events.list({
        stime: isoTime('stime', q.stime),
        etime: isoTime('etime', q.etime),
        order: q.order,
        limit: q.limit !== undefined ? Number(q.limit) : undefined,
        offset: q.offset !== undefined ? Number(q.offset) : undefined,
      });
    },
  );
};
