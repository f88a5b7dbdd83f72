/**
 * `GET /metrics`: this node's Prometheus metrics (src/metrics/metrics.ts), in the text format.
 *
 * Public by default, like Redis Enterprise's own Prometheus endpoint; with `--metrics-auth` (or
 * BOSUN_METRICS_AUTH=1) it needs a user with RE's `view_all_metrics` permission. It answers even when
 * this node cannot reach the store: that is when an operator most needs it.
 */
import type { FastifyPluginAsync } from 'fastify';

import type { BosunMetrics } from '../../metrics/metrics.js';

export interface MetricsRoutesOptions {
  readonly metrics: BosunMetrics;
  readonly requireAuth: boolean;
}

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (
  app,
  { metrics, requireAuth },
) => {
  app.get(
    '/metrics',
    { config: { local: true, ...(requireAuth ? { permission: 'view_all_metrics' as const } : {}) } },
    async (_request, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    },
  );
};
