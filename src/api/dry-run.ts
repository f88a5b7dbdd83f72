/**
 * `?dry_run=true` on a cluster action's POST (src/actions/preflight.ts). A dry run writes nothing,
 * so it needs only the permission to view actions: anyone who may look can ask whether a run would
 * go, and the answer says whether they themselves may start it (the `requester_permission` check).
 */
import { Type } from '@fastify/type-provider-typebox';

/** The POST's query: `dry_run` as `true`/`false` (or `1`/`0`); anything else is a 400. */
export const ActionPostQuery = Type.Object({
  dry_run: Type.Optional(
    Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')]),
  ),
});

/** Whether the raw query asks for a dry run; read before validation, by the permission hook. */
export function dryRunRequested(query: unknown): boolean {
  const value = (query as Record<string, unknown> | undefined)?.dry_run;
  return value === 'true' || value === '1';
}
