/** `/v1/nodes`: the node objects and their status, with `role` (re-api.md §5.5, §5.6). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { BodyCache } from '../body-cache.js';
import { errorResponses } from '../schemas.js';
import type { MemberState } from '../../cluster/state.js';
import type { ApiDeps } from '../server.js';
import { toWireNode, toWireNodeStatus } from '../wire.js';
import { findNode } from './node-lookup.js';

// Any segment: a non-numeric one names no node, so it is a 404 like an unknown uid (node-lookup.ts).
const NodeUidParams = Type.Object({ uid: Type.String({ maxLength: 64 }) });
const AnyObject = Type.Object({}, { additionalProperties: true });

export function nodeRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const bodies = new BodyCache(deps.view);
  /**
   * The node to call master: the master key's holder, unless an intent of its term is out (it is
   * handing over) or it is this node and this node knows it has stepped down (fenced). Those cases
   * name no master, and say why on the holder's entry.
   */
  const acting = (): {
    masterUid: number | undefined;
    holder: number | undefined;
    why: string | undefined;
  } => {
    const claim = deps.state.masterClaim();
    if (!claim) return { masterUid: undefined, holder: undefined, why: undefined };
    const self = claim.uid === deps.selfUid ? deps.selfMasterStatus() : undefined;
    const why = claim.handingOver
      ? 'handing_over'
      : self === 'fenced' || self === 'handing_over'
        ? self
        : undefined;
    return { masterUid: why ? undefined : claim.uid, holder: claim.uid, why };
  };
  const statusOf = (m: MemberState, a: ReturnType<typeof acting>): Record<string, unknown> => {
    const wire = toWireNodeStatus(m, a.masterUid);
    return a.why && m.uid === a.holder ? { ...wire, master_status: a.why } : wire;
  };
  const member = (raw: string) => findNode(deps, raw);

  return async (app) => {
    app.get(
      '/v1/nodes',
      {
        config: { permission: 'view_all_nodes_info' },
        schema: { response: { 200: Type.Array(AnyObject), ...errorResponses } },
      },
      async () => {
        const now = Date.now();
        return deps.state.members().map((m) => toWireNode(m, now));
      },
    );

    app.get(
      '/v1/nodes/status',
      {
        config: { permission: 'view_node_info' },
        schema: { response: { 200: AnyObject, ...errorResponses } },
      },
      async (_request, reply) => {
        const a = acting();
        // The body depends on this node's own role too, which can change with no new revision.
        return bodies.send(reply, `status:${a.masterUid}:${a.why}`, () =>
          Object.fromEntries(deps.state.members().map((m) => [String(m.uid), statusOf(m, a)])),
        );
      },
    );

    app.get(
      '/v1/nodes/:uid',
      {
        config: { permission: 'view_node_info' },
        schema: { params: NodeUidParams, response: { 200: AnyObject, ...errorResponses } },
      },
      async (request) => toWireNode(member(request.params.uid), Date.now()),
    );

    app.get(
      '/v1/nodes/:uid/status',
      {
        config: { permission: 'view_node_info' },
        schema: { params: NodeUidParams, response: { 200: AnyObject, ...errorResponses } },
      },
      async (request) => statusOf(member(request.params.uid), acting()),
    );

    // Bosun runs no node actions (maintenance_on, remove, ...): the truthful list is empty.
    app.get(
      '/v1/nodes/actions',
      {
        config: { permission: 'view_status_of_all_node_actions' },
        schema: { response: { 200: AnyObject, ...errorResponses } },
      },
      async () => ({ actions: [] }),
    );

    app.get(
      '/v1/nodes/:uid/actions',
      {
        config: { permission: 'view_status_of_node_action' },
        schema: { params: NodeUidParams, response: { 200: AnyObject, ...errorResponses } },
      },
      async (request) => {
        member(request.params.uid);
        return { actions: [] };
      },
    );

    app.get(
      '/v1/local/node/master_healthcheck',
      {
        config: { permission: 'view_cluster_info', local: true },
        schema: { response: { 200: AnyObject, ...errorResponses } },
      },
      async () => {
        const healthy = deps.healthy();
        const self = deps.selfMasterStatus();
        const since = deps.selfMasterSince();
        const masterUid = healthy ? acting().masterUid : undefined;
        return {
          status: masterUid !== undefined ? 'active' : 'inactive',
          // Additive: what this node knows and believes, for operators and fault tests.
          node_uid: deps.selfUid,
          master_uid: masterUid,
          is_master: self === 'master',
          // master, handing_over (an intent is out: the target may be master already), fenced (it
          // stopped acting when its lease went unconfirmed) or none.
          master_status: self,
          // With is_master: since when this node has said so without a break, and when it answered
          // (unix ms), so an observer can tell overlapping claims from a late answer.
          master_since: self === 'master' ? since : undefined,
          checked_at: Date.now(),
          store_reachable: healthy,
        };
      },
    );
  };
}
