/**
 * `GET /v1/whoami` (additive, not in RE): the signed-in user and the permissions its role holds, so a
 * client (the dashboard) shows only the controls the server would allow. The server still checks
 * every request; this only spares a user buttons that would answer 403.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

import { permissionsOf } from '../auth/permissions.js';
import { errorResponses } from '../schemas.js';

const WhoamiBody = Type.Object(
  {
    uid: Type.Integer(),
    name: Type.String(),
    email: Type.String(),
    role: Type.String(),
    permissions: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const whoamiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/whoami',
    {
      // Every role that can look at the cluster at all: the dashboard's own entry condition.
      config: { permission: 'view_cluster_info' },
      schema: { response: { 200: WhoamiBody, ...errorResponses } },
    },
    async (request) => {
      const p = request.principal!;
      return { uid: p.uid, name: p.name, email: p.email, role: p.role, permissions: permissionsOf(p.role) };
    },
  );
};
