/** `/v1/nodes`: the node objects and their status, with `role` (re-api.md §5.5, §5.6). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { BodyCache } from '../body-cache.js';
import { errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';
import { toWireNode, toWireNodeStatus } from '../wire.js';
import { findNode } from './node-lookup.js';

// Any segment: a non-numeric one names no node, so it is a 404 like an unknown uid (node-lookup.ts).
const NodeUidParams = Type.Object({ uid: Type.String({ maxLength: 64 }) });
const AnyObject = Type.Object({}, { additionalProperties: true });

export function nodeRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const bodies = new BodyCache(deps.view);
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
      async (_request, reply) =>
        bodies.send(reply, 'status', () => {
          const masterUid = deps.state.master()?.node_uid;
          return Object.fromEntries(
            deps.state.members().map((m) => [String(m.uid), toWireNodeStatus(m, masterUid)]),
          );
        }),
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
      async (request) => toWireNodeStatus(member(request.params.uid), deps.state.master()?.node_uid),
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
        const master = deps.state.master();
        const healthy = deps.healthy();
        return {
          status: master && healthy ? 'active' : 'inactive',
          // Additive: what this node knows and believes, for operators and fault tests.
          node_uid: deps.selfUid,
          master_uid: healthy ? master?.node_uid : undefined,
          is_master: deps.selfIsMaster(),
          store_reachable: healthy,
        };
      },
    );
  };
}
