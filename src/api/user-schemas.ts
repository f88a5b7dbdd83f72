/**
 * The user object on the wire (docs/re-contract.md, "Authentication"; RE's user object): the fields Redis
 * Enterprise documents and Bosun models, for request bodies (anything else is a 400 naming the field) and
 * responses. Checks a schema cannot state (a name or an email; `role` against `role_uids`) are in
 * `resolveRole` and the routes.
 */
import { Type } from '@fastify/type-provider-typebox';

import { BosunError } from '../errors/catalogue.js';
import { roleByUid, roles, type Role } from '../users/roles.js';

const RoleSchema = Type.Union(roles.map((r) => Type.Literal(r)));
export const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' });
// RE: printable ASCII, without & < > " (its user object's `name` pattern).
export const UserName = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: '^[\\x20\\x21\\x23-\\x25\\x27-\\x3B\\x3D\\x3F-\\x7E]+$',
});
export const Password = Type.String({ minLength: 8, maxLength: 1024 });

/** The writable fields, each optional: POST requires more (see the route). */
const writable = {
  email: Type.Optional(Email),
  name: Type.Optional(UserName),
  password: Type.Optional(Password),
  role: Type.Optional(RoleSchema),
  role_uids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 16 })),
  email_alerts: Type.Optional(Type.Boolean()),
  cluster_email_alerts: Type.Optional(Type.Boolean()),
  // RE's clients send database uids as strings; integers are accepted and kept as strings.
  bdbs_email_alerts: Type.Optional(
    Type.Array(Type.Union([Type.String({ pattern: '^[0-9]{1,9}$' }), Type.Integer({ minimum: 0 })]), {
      maxItems: 1024,
    }),
  ),
  // RE also documents `certificate`, `entraid` and `sso`; Bosun signs users in by password only.
  auth_method: Type.Optional(Type.Literal('regular')),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('locked')])),
};

export const UserCreateBody = Type.Object(
  { ...writable, password: Password },
  { additionalProperties: false },
);
export const UserUpdateBody = Type.Object(writable, { additionalProperties: false });

export const UserBody = Type.Object(
  {
    uid: Type.Integer(),
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    role_uids: Type.Array(Type.Integer()),
    auth_method: Type.String(),
    password_issue_date: Type.String(),
    email_alerts: Type.Boolean(),
    cluster_email_alerts: Type.Optional(Type.Boolean()),
    bdbs_email_alerts: Type.Optional(Type.Array(Type.String())),
    status: Type.String(),
  },
  { additionalProperties: false },
);

export const RoleBody = Type.Object(
  { uid: Type.Integer(), name: Type.String(), management: Type.String() },
  { additionalProperties: false },
);

/**
 * The management role a body asks for: `role`, or the one built-in role in `role_uids` (Bosun has no
 * custom roles, so a user holds exactly one). Both given must agree. Undefined: neither given.
 */
export function resolveRole(
  role: Role | undefined,
  roleUids: readonly number[] | undefined,
): Role | undefined {
  if (roleUids === undefined) return role;
  if (roleUids.length !== 1) {
    throw new BosunError(
      'invalid_schema',
      `"role_uids" must hold exactly one role uid (Bosun's users hold one built-in role); got ${roleUids.length}.`,
    );
  }
  const found = roleByUid(roleUids[0]!);
  if (!found) {
    throw new BosunError(
      'invalid_schema',
      `"role_uids": no role with uid ${roleUids[0]} (see GET /v1/roles).`,
    );
  }
  if (role !== undefined && role !== found.management) {
    throw new BosunError(
      'invalid_schema',
      `"role" (${role}) and "role_uids" (${found.uid}, ${found.name}) name different roles.`,
    );
  }
  return found.management;
}

export function bdbUids(list: readonly (string | number)[] | undefined): string[] | undefined {
  return list?.map(String);
}
