/**
 * The run history's HTTP side: the query parameters `GET /v1/actions` documents (the parsing and
 * paging are src/actions/history-query.ts), and the runs in creation order, sorted once per change.
 */
import { Type } from '@fastify/type-provider-typebox';

import type { ClusterView } from '../cluster/view.js';
import type { KeyValue } from '../store/types.js';

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

/**
 * Every run under `prefix` in submission order: the store revision that created each (creation_time
 * has whole seconds only). The view's list keeps its identity until the folder changes, so the sort
 * runs once per change, not once per request.
 */
export function orderedRuns(view: ClusterView, prefix: string): () => readonly KeyValue[] {
  let source: readonly KeyValue[] | undefined;
  let sorted: readonly KeyValue[] = [];
  return () => {
    const list = view.list(prefix);
    if (list !== source) {
      source = list;
      sorted = [...list].sort((a, b) => a.createRevision - b.createRevision || (a.key < b.key ? -1 : 1));
    }
    return sorted;
  };
}
