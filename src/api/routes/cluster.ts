/**
 * `GET /v1/cluster`: the cluster object (docs/re-contract.md, "Nodes and the cluster object"). Like
 * Redis's, it has no master field, and no `uid`: a real cluster sends none, and the typed Rust client
 * reads `uid` as an optional integer, so the cluster's internal UUID (kept in the store's `config`)
 * must not appear here.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { ClusterReadModel } from '../../cluster/cluster-read-model.js';
import { errorResponses } from '../schemas.js';
import { isoSeconds } from '../wire.js';

export interface ClusterRoutesOptions {
  readonly cluster: ClusterReadModel;
}

export const clusterRoutes: FastifyPluginAsyncTypebox<ClusterRoutesOptions> = async (app, { cluster }) => {
  app.get(
    '/v1/cluster',
    {
      config: { permission: 'view_cluster_info' },
      schema: { response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses } },
    },
    async () => {
      const identity = cluster.identity();
      const self = cluster.self()?.member;
      const master = cluster.master();
      return {
        name: identity.name,
        created_time: isoSeconds(identity.createdTime),
        cnm_http_port: self?.http_port,
        cnm_https_port: self?.https_port,
        http_support: true,
        handle_redirects: false,
        rack_aware: false,
        nodes_count: cluster.members().length,
        // Additive (the dashboard's header): the master key's holder, its epoch, since when it
        // holds the role, and which node answered. /v1/nodes/status says whether it is acting.
        master_uid: master?.node_uid,
        master_epoch: master?.epoch,
        master_since: master ? new Date(master.since).toISOString() : undefined,
        node_uid: cluster.selfUid,
      };
    },
  );
};
