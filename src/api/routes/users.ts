/** `/v1/users` and `POST /v1/users/authorize` (docs/re-contract.md, "Authentication"). */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';

import { BosunError } from '../../errors/catalogue.js';
import { builtInRoles, defaultRole, roleByUid, roleUidOf, type Role } from '../../users/roles.js';
import {
  publicUser,
  type UserDirectory,
  type UserGuard,
  type UserRecord,
} from '../../users/user-directory.js';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import { covers } from '../auth/grants.js';
import { defaultTokenTtlSeconds, maxTokenTtlSeconds, type TokenService } from '../auth/tokens.js';
import { sendError } from '../error-handler.js';
import { errorResponses } from '../schemas.js';
import { RoleBody, UserBody, UserCreateBody, UserUpdateBody, bdbUids, resolveRole } from '../user-schemas.js';

const UserUidParams = Type.Object({ uid: Type.String({ maxLength: 64 }) });

/** A user on the wire: the stored settings with their defaults, and `role_uids` from the role. */
function wireUser(user: UserRecord): Static<typeof UserBody> {
  return { ...publicUser(user), role_uids: [roleUidOf(user.role)] } as Static<typeof UserBody>;
}

/**
 * The credentials and ttl of an authorize body. The body is optional, which a route schema cannot
 * say, so it is read by hand: credentials as `{email, password}` (what redis-enterprise-rs sends
 * along with its Basic header) or `{username, password}` (RE's older contract), and `ttl`. Keys
 * Bosun does not use are ignored: they must not fail a request whose credentials are valid.
 */
function parseAuthorizeBody(body: unknown): { login?: string; password?: string; ttl?: number } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BosunError('invalid_schema', 'The body must be a JSON object.');
  }
  const b = body as Record<string, unknown>;
  const text = (key: string, max: number): string | undefined => {
    const v = b[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > max) {
      throw new BosunError('invalid_schema', `"${key}" must be a string of at most ${max} characters.`);
    }
    return v;
  };
  const ttl = b.ttl;
  if (
    ttl !== undefined &&
    (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > maxTokenTtlSeconds)
  ) {
    throw new BosunError(
      'invalid_schema',
      `"ttl" must be an integer from 1 to ${maxTokenTtlSeconds} seconds.`,
    );
  }
  const email = text('email', 254);
  const username = text('username', 256);
  const password = text('password', 1024);
  return {
    ...(email !== undefined || username !== undefined ? { login: (email ?? username)! } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
  };
}

/**
 * Refuses to give a role the actor does not cover (src/api/auth/grants.ts). `role_uids` resolves to
 * a role first (resolveRole), so the rule holds whichever field names it.
 */
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

export interface UserRoutesOptions {
  readonly users: UserDirectory;
  readonly authenticator: Authenticator;
  readonly tokens: TokenService;
}

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, deps) => {
  const find = async (raw: string) => {
    // A non-numeric segment names no user: 404, like an unknown uid.
    const found = /^[0-9]{1,9}$/.test(raw) ? await deps.users.byUidSettled(Number(raw)) : undefined;
    if (!found) throw new BosunError('user_not_exist', `User ${raw} does not exist.`);
    return found.user;
  };

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
        body.login !== undefined && body.password !== undefined
          ? await deps.authenticator.verifyCredentials(body.login, body.password, request.ip)
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
    async () => deps.users.list().map(wireUser),
  );

  app.get(
    '/v1/users/:uid',
    {
      config: { permission: 'view_user_info' },
      schema: { params: UserUidParams, response: { 200: UserBody, ...errorResponses } },
    },
    async (request) => wireUser(await find(request.params.uid)),
  );

  app.post(
    '/v1/users',
    {
      config: { permission: 'create_new_user' },
      schema: { body: UserCreateBody, response: { 200: UserBody, ...errorResponses } },
    },
    async (request) => {
      const b = request.body;
      // RE users sign in by name or email; a user needs at least one of them.
      if (b.email === undefined && b.name === undefined) {
        throw new BosunError('invalid_schema', 'A user needs an "email" or a "name" (or both).');
      }
      const role = resolveRole(b.role, b.role_uids) ?? defaultRole;
      assertMayGrant(request.principal!, role);
      const user = await deps.users.create({
        email: b.email ?? '',
        password: b.password,
        name: b.name ?? b.email!,
        role,
        email_alerts: b.email_alerts,
        cluster_email_alerts: b.cluster_email_alerts,
        bdbs_email_alerts: bdbUids(b.bdbs_email_alerts),
        status: b.status,
      });
      if (!user) {
        throw new BosunError(
          'name_already_exists',
          `A user with email or name ${b.email ?? b.name} already exists.`,
        );
      }
      return wireUser(user);
    },
  );

  app.put(
    '/v1/users/:uid',
    {
      config: { permission: 'update_user' },
      schema: {
        params: UserUidParams,
        body: UserUpdateBody,
        response: { 200: UserBody, ...errorResponses },
      },
    },
    async (request) => {
      const uid = (await find(request.params.uid)).uid;
      const b = request.body;
      const actor = request.principal!;
      const role = resolveRole(b.role, b.role_uids);
      if (role !== undefined) assertMayGrant(actor, role);
      return wireUser(
        await deps.users.update(
          uid,
          {
            email: b.email,
            password: b.password,
            name: b.name,
            role,
            email_alerts: b.email_alerts,
            cluster_email_alerts: b.cluster_email_alerts,
            bdbs_email_alerts: bdbUids(b.bdbs_email_alerts),
            status: b.status,
          },
          mayActOn(actor, 'change'),
        ),
      );
    },
  );

  app.delete(
    '/v1/users/:uid',
    { config: { permission: 'delete_user' }, schema: { params: UserUidParams } },
    async (request, reply) => {
      const uid = (await find(request.params.uid)).uid;
      if (request.principal?.uid === uid) {
        throw new BosunError('invalid_schema', 'A user cannot delete their own account.');
      }
      await deps.users.delete(uid, mayActOn(request.principal!, 'delete'));
      return reply.code(200).send();
    },
  );

  app.get(
    '/v1/roles',
    {
      config: { permission: 'view_all_roles_info' },
      schema: { response: { 200: Type.Array(RoleBody), ...errorResponses } },
    },
    async () => [...builtInRoles],
  );

  app.get(
    '/v1/roles/:uid',
    {
      config: { permission: 'view_role_info' },
      schema: { params: UserUidParams, response: { 200: RoleBody, ...errorResponses } },
    },
    async (request) => {
      const role = /^[0-9]{1,9}$/.test(request.params.uid)
        ? roleByUid(Number(request.params.uid))
        : undefined;
      if (!role) throw new BosunError('role_not_found', `Role ${request.params.uid} does not exist.`);
      return role;
    },
  );
};
