/**
 * `GET /v1/nodes/stats`, `/v1/nodes/{uid}/stats` and `/v1/cluster/stats` (docs/re-contract.md, "Stats"): each
 * node's own latest OS sample, as every node published it under its lease (node/stats-publisher.ts).
 * Bosun keeps no history: a query's `stime`/`etime` select whether the latest sample is shown.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { ClusterReadModel } from '../../cluster/cluster-read-model.js';
import type { NodeStatsRecord } from '../../cluster/keys.js';
import { errorResponses } from '../schemas.js';
import { parseStatsQuery, toClusterStats, toNodeStats } from '../stats-wire.js';
import { findNode } from './node-lookup.js';

// `metrics` and anything else a client adds are accepted and ignored: every measured figure is sent.
const StatsQuerySchema = Type.Object(
  {
    interval: Type.Optional(Type.String({ maxLength: 16 })),
    stime: Type.Optional(Type.String({ maxLength: 64 })),
    etime: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);
const AnyObject = Type.Object({}, { additionalProperties: true });

export interface StatsRoutesOptions {
  readonly cluster: ClusterReadModel;
}

export const statsRoutes: FastifyPluginAsyncTypebox<StatsRoutesOptions> = async (app, { cluster }) => {
  app.get(
    '/v1/nodes/stats',
    {
      config: { permission: 'view_all_nodes_stats' },
      schema: {
        querystring: StatsQuerySchema,
        response: { 200: Type.Array(AnyObject), ...errorResponses },
      },
    },
    async (request) => {
      const window = parseStatsQuery(request.query);
      // Only nodes that are alive have a sample; a down node has nothing it could have measured.
      return cluster
        .members()
        .filter((m) => m.active)
        .map((m) => toNodeStats(m.uid, cluster.nodeStats(m.uid), window));
    },
  );

  app.get(
    '/v1/nodes/:uid/stats',
    {
      config: { permission: 'view_node_stats' },
      schema: {
        params: Type.Object({ uid: Type.String({ maxLength: 64 }) }),
        querystring: StatsQuerySchema,
        response: { 200: AnyObject, ...errorResponses },
      },
    },
    async (request) => {
      const window = parseStatsQuery(request.query);
      const node = await findNode(cluster, request.params.uid);
      return toNodeStats(node.uid, node.active ? cluster.nodeStats(node.uid) : undefined, window);
    },
  );

  app.get(
    '/v1/cluster/stats',
    {
      config: { permission: 'view_cluster_stats' },
      schema: { querystring: StatsQuerySchema, response: { 200: AnyObject, ...errorResponses } },
    },
    async (request) => {
      const window = parseStatsQuery(request.query);
      const samples = cluster
        .members()
        .filter((m) => m.active)
        .map((m) => cluster.nodeStats(m.uid))
        .filter((s): s is NodeStatsRecord => s !== undefined);
      return toClusterStats(samples, window);
    },
  );
};
