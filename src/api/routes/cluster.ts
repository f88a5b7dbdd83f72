/**
 * `GET /v1/cluster`: the cluster object (re-api.md §5.5). Like Redis's, it has no master field, and
 * no `uid`: a real cluster sends none, and the typed Rust client reads `uid` as an optional integer,
 * so the cluster's internal UUID (kept in the store's `config`) must not appear here.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';

export function clusterRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/cluster',
      {
        config: { permission: 'view_cluster_info' },
        schema: { response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses } },
      },
      async () => {
        const config = deps.view.read(deps.keys.config);
        const self = deps.view.read(deps.keys.member(deps.selfUid));
        const master = deps.state.master();
        return {
          name: config?.name ?? 'bosun',
          created_time: config
            ? new Date(config.created_time * 1000).toISOString().replace('.000Z', 'Z')
            : undefined,
          cnm_http_port: self?.http_port,
          cnm_https_port: self?.https_port,
          http_support: true,
          handle_redirects: false,
          rack_aware: false,
          nodes_count: deps.state.members().length,
          // Additive (the dashboard's header): the master key's holder, its epoch, since when it
          // holds the role, and which node answered. /v1/nodes/status says whether it is acting.
          master_uid: master?.node_uid,
          master_epoch: master?.epoch,
          master_since: master ? new Date(master.since).toISOString() : undefined,
          node_uid: deps.selfUid,
        };
      },
    );
  };
}
