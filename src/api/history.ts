/**
 * The run history's HTTP side: the query parameters `GET /v1/actions` documents (the parsing and
 * paging are src/actions/history-query.ts; the run read model, actions/run-read-model.ts, answers).
 */
import { Type } from '@fastify/type-provider-typebox';

/** Strings only: history-query.ts parses them, so each bad value gets its own message. */
export const HistoryQueryString = Type.Object({
  name: Type.Optional(Type.String({ description: 'Only runs of this action, such as change_master.' })),
  status: Type.Optional(Type.String({ description: 'Only runs in these statuses, comma-separated.' })),
  since: Type.Optional(Type.String({ description: 'Created at or after: unix seconds or ISO 8601.' })),
  until: Type.Optional(Type.String({ description: 'Created before: unix seconds or ISO 8601.' })),
  limit: Type.Optional(Type.String({ description: 'At most this many runs (1 to 1000); then next_cursor.' })),
  cursor: Type.Optional(Type.String({ description: 'The next_cursor of the previous page.' })),
  order: Type.Optional(
    Type.String({ description: 'asc (oldest first, the default) or desc (newest first).' }),
  ),
});
