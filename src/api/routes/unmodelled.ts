/**
 * Parts of Redis Enterprise that Bosun does not model, answered truthfully so that clients which
 * read them first (redisctl's `enterprise status`, `init-cluster`) carry on: a Bosun cluster has no
 * databases and no shards, and it is set up from its first start (README, "Using Redis Enterprise
 * tools with Bosun").
 */
import { arch, hostname } from 'node:os';

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import type { ClusterReadModel } from '../../cluster/cluster-read-model.js';
import { errorResponses } from '../schemas.js';
import { isoSeconds } from '../wire.js';

const AnyObject = Type.Object({}, { additionalProperties: true });

/** RE names the CPU architecture as the kernel does (`aarch64`, `x86_64`). */
function kernelArch(): string {
  const a = arch();
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a;
}

export interface UnmodelledRoutesOptions {
  readonly cluster: ClusterReadModel;
}

export const unmodelledRoutes: FastifyPluginAsyncTypebox<UnmodelledRoutesOptions> = async (
  app,
  { cluster },
) => {
  app.get(
    '/v1/bdbs',
    {
      config: { permission: 'view_all_bdbs_info' },
      schema: { response: { 200: Type.Array(AnyObject), ...errorResponses } },
    },
    async () => [],
  );

  app.get(
    '/v1/shards',
    {
      config: { permission: 'view_all_shard_stats' },
      schema: { response: { 200: Type.Array(AnyObject), ...errorResponses } },
    },
    async () => [],
  );

  // Public, as on RE: a bootstrap tool asks before any user exists. It reports only what the
  // cluster's identity record and this node know.
  app.get('/v1/bootstrap', { schema: { response: { 200: AnyObject, ...errorResponses } } }, async () => {
    const created = isoSeconds(cluster.identity().createdTime);
    const self = cluster.self();
    const live = self?.live;
    return {
      bootstrap_status: { state: 'completed', start_time: created, end_time: created },
      local_node_info: {
        uid: String(cluster.selfUid),
        architecture: kernelArch(),
        cores: live?.cores,
        total_memory: live?.total_memory,
        short_hostname: hostname().split('.')[0],
        software_version: live?.software_version ?? self?.member.software_version,
        uptime: live ? Math.max(0, Math.floor((Date.now() - live.started_at) / 1000)) : undefined,
      },
      // Additive, for clients that read the state at the top level: redis-enterprise-rs's
      // `BootstrapStatus` requires `status`, and redisctl's init-cluster reads `state`.
      state: 'completed',
      status: 'completed',
    };
  });
};
