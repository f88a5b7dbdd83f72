/** `/v1/users` and `POST /v1/users/authorize` (re-api.md §3). */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { Value } from '@sinclair/typebox/value';

import { BosunError } from '../../errors/catalogue.js';
import { defaultRole, roles, type Role } from '../../users/roles.js';
import { publicUser, type UserGuard } from '../../users/user-directory.js';
import type { Principal } from '../auth/authenticator.js';
import { covers } from '../auth/grants.js';
import { defaultTokenTtlSeconds, maxTokenTtlSeconds } from '../auth/tokens.js';
import { sendError } from '../error-handler.js';
import { errorResponses } from '../schemas.js';
import type { ApiDeps } from '../server.js';

const RoleSchema = Type.Union(roles.map((r) => Type.Literal(r)));
const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' });
const Password = Type.String({ minLength: 8, maxLength: 1024 });
const UserUidParams = Type.Object({ uid: Type.String({ pattern: '^[0-9]{1,9}$' }) });
const UserBody = Type.Object(
  {
    uid: Type.Integer(),
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    auth_method: Type.String(),
    password_issue_date: Type.String(),
  },
  { additionalProperties: false },
);

const AuthorizeBody = Type.Object(
  {
    ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: maxTokenTtlSeconds })),
    // The older contract put the credentials in the body.
    username: Type.Optional(Type.String({ maxLength: 254 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

/** The body is optional here, which a route schema cannot say; so it is checked by hand. */
function parseAuthorizeBody(body: unknown): Static<typeof AuthorizeBody> {
  if (body === undefined || body === null) return {};
  if (!Value.Check(AuthorizeBody, body)) {
    throw new BosunError(
      'invalid_schema',
      'The body may hold only "ttl" (1-86400 seconds), "username" and "password".',
    );
  }
  return body;
}

/** Refuses to give a role the actor does not cover (src/api/auth/grants.ts). */
function assertMayGrant(actor: Principal, role: Role): void {
  if (!covers(actor.role, role)) {
    throw new BosunError(
      'unauthorized_action',
      `Role ${actor.role} cannot give the ${role} role: it holds permissions ${actor.role} lacks.`,
    );
  }
}

/** Refuses to act on a user whose role the actor does not cover. */
function mayActOn(actor: Principal, verb: string): UserGuard {
  return (target) => {
    if (!covers(actor.role, target.role)) {
      throw new BosunError(
        'unauthorized_action',
        `Role ${actor.role} cannot ${verb} user ${target.uid}, whose role ${target.role} holds permissions ${actor.role} lacks.`,
      );
    }
  };
}

export function userRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const find = (raw: string) => {
    const found = deps.users.byUid(Number(raw));
    if (!found) throw new BosunError('user_not_exist', `User ${raw} does not exist.`);
    return found.user;
  };

  return async (app) => {
    app.post(
      '/v1/users/authorize',
      {
        schema: {
          response: { 200: Type.Object({ access_token: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = parseAuthorizeBody(request.body);
        const principal =
          body.username !== undefined && body.password !== undefined
            ? await deps.authenticator.verifyCredentials(body.username, body.password, request.ip)
            : await deps.authenticator.authenticate(request.headers.authorization, request.ip);
        if (!principal) return sendError(reply, 'unauthorized');
        // Redis Enterprise: role `none` is "for data access only - cannot access the Cluster
        // Manager UI or use the REST API". A token would be good for nothing, so none is issued.
        if (principal.role === 'none') {
          return sendError(
            reply,
            'unauthorized_action',
            'Role none cannot use the REST API, so it is issued no token.',
          );
        }
        return { access_token: await deps.tokens.issue(principal.uid, body.ttl ?? defaultTokenTtlSeconds) };
      },
    );

    app.get(
      '/v1/users',
      {
        config: { permission: 'view_all_users_info' },
        schema: { response: { 200: Type.Array(UserBody), ...errorResponses } },
      },
      async () => deps.users.list().map(publicUser),
    );

    app.get(
      '/v1/users/:uid',
      {
        config: { permission: 'view_user_info' },
        schema: { params: UserUidParams, response: { 200: UserBody, ...errorResponses } },
      },
      async (request) => publicUser(find(request.params.uid)),
    );

    app.post(
      '/v1/users',
      {
        config: { permission: 'create_new_user' },
        schema: {
          body: Type.Object(
            {
              email: Email,
              password: Password,
              name: Type.Optional(Type.String({ maxLength: 256 })),
              role: Type.Optional(RoleSchema),
            },
            { additionalProperties: false },
          ),
          response: { 200: UserBody, ...errorResponses },
        },
      },
      async (request) => {
        const { email, password, name, role } = request.body;
        assertMayGrant(request.principal!, role ?? defaultRole);
        const user = await deps.users.create({
          email,
          password,
          name: name ?? email,
          role: role ?? defaultRole,
        });
        if (!user) throw new BosunError('name_already_exists', `A user with email ${email} already exists.`);
        return publicUser(user);
      },
    );

    app.put(
      '/v1/users/:uid',
      {
        config: { permission: 'update_user' },
        schema: {
          params: UserUidParams,
          body: Type.Object(
            {
              email: Type.Optional(Email),
              password: Type.Optional(Password),
              name: Type.Optional(Type.String({ maxLength: 256 })),
              role: Type.Optional(RoleSchema),
            },
            { additionalProperties: false },
          ),
          response: { 200: UserBody, ...errorResponses },
        },
      },
      async (request) => {
        const uid = find(request.params.uid).uid;
        const body = request.body;
        const actor = request.principal!;
        if (body.role !== undefined) assertMayGrant(actor, body.role);
        return publicUser(
          await deps.users.update(
            uid,
            { email: body.email, password: body.password, name: body.name, role: body.role },
            mayActOn(actor, 'change'),
          ),
        );
      },
    );

    app.delete(
      '/v1/users/:uid',
      { config: { permission: 'delete_user' }, schema: { params: UserUidParams } },
      async (request, reply) => {
        const uid = find(request.params.uid).uid;
        if (request.principal?.uid === uid) {
          throw new BosunError('invalid_schema', 'A user cannot delete their own account.');
        }
        await deps.users.delete(uid, mayActOn(request.principal!, 'delete'));
        return reply.code(200).send();
      },
    );
  };
}
