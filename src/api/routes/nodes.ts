/**
 * `/v1/nodes`: the node objects and their status, with `role` (docs/re-contract.md, "Nodes and the cluster
 * object").
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { ClusterReadModel, MasterRoles, MemberState } from '../../cluster/cluster-read-model.js';
import { BodyCache } from '../body-cache.js';
import { errorResponses } from '../schemas.js';
import { toWireNode, toWireNodeStatus } from '../wire.js';
import { findNode } from './node-lookup.js';

// Any segment: a non-numeric one names no node, so it is a 404 like an unknown uid (node-lookup.ts).
const NodeUidParams = Type.Object({ uid: Type.String({ maxLength: 64 }) });
const AnyObject = Type.Object({}, { additionalProperties: true });

export interface NodeRoutesOptions {
  readonly cluster: ClusterReadModel;
  /** Whether this node can vouch for its view: joined, with a lease that is certainly alive. */
  readonly healthy: () => boolean;
}

export const nodeRoutes: FastifyPluginAsyncTypebox<NodeRoutesOptions> = async (app, { cluster, healthy }) => {
  const bodies = new BodyCache(cluster);
  const statusOf = (m: MemberState, roles: MasterRoles): Record<string, unknown> => {
    const wire = toWireNodeStatus(m, roles.masterUid);
    return roles.why && m.uid === roles.holder ? { ...wire, master_status: roles.why } : wire;
  };
  const member = (raw: string) => findNode(cluster, raw);

  app.get(
    '/v1/nodes',
    {
      config: { permission: 'view_all_nodes_info' },
      schema: { response: { 200: Type.Array(AnyObject), ...errorResponses } },
    },
    async () => {
      const now = Date.now();
      return cluster.members().map((m) => toWireNode(m, now));
    },
  );

  app.get(
    '/v1/nodes/status',
    {
      config: { permission: 'view_node_info' },
      schema: { response: { 200: AnyObject, ...errorResponses } },
    },
    async (_request, reply) => {
      const roles = cluster.roles();
      // The body depends on this node's own role too, which can change with no new revision.
      return bodies.send(reply, `status:${roles.masterUid}:${roles.why}`, () =>
        Object.fromEntries(cluster.members().map((m) => [String(m.uid), statusOf(m, roles)])),
      );
    },
  );

  app.get(
    '/v1/nodes/:uid',
    {
      config: { permission: 'view_node_info' },
      schema: { params: NodeUidParams, response: { 200: AnyObject, ...errorResponses } },
    },
    async (request) => toWireNode(await member(request.params.uid), Date.now()),
  );

  app.get(
    '/v1/nodes/:uid/status',
    {
      config: { permission: 'view_node_info' },
      schema: { params: NodeUidParams, response: { 200: AnyObject, ...errorResponses } },
    },
    async (request) => statusOf(await member(request.params.uid), cluster.roles()),
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
      await member(request.params.uid);
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
      const reachable = healthy();
      const self = cluster.selfRole.status();
      const since = cluster.selfRole.since();
      const masterUid = reachable ? cluster.roles().masterUid : undefined;
      return {
        status: masterUid !== undefined ? 'active' : 'inactive',
        // Additive: what this node knows and believes, for operators and fault tests.
        node_uid: cluster.selfUid,
        master_uid: masterUid,
        is_master: self === 'master',
        // master, handing_over (an intent is out: the target may be master already), fenced (it
        // stopped acting when its lease went unconfirmed) or none.
        master_status: self,
        // With is_master: since when this node has said so without a break, and when it answered
        // (unix ms), so an observer can tell overlapping claims from a late answer.
        master_since: self === 'master' ? since : undefined,
        checked_at: Date.now(),
        store_reachable: reachable,
      };
    },
  );
};
