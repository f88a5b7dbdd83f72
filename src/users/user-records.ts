/**
 * The records the users layer stores, their schemas and typed keys on the paths cluster/keys.ts
 * names (docs/design.md, "Typed records"): `users/<uid>` and `login-failures/<uid>`.
 */
import { Type } from '@sinclair/typebox';

import type { ClusterKeys } from '../cluster/keys.js';
import { keyFolder, recordType, typedKey, type Key, type KeyFolder } from '../store/typed-key.js';
import { roles, type Role } from './roles.js';
import type { UserSettings } from './user-fields.js';

export interface UserRecord extends Partial<UserSettings> {
  readonly uid: number;
  /** Empty when the user has none: RE users may sign in by name alone. */
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly password_hash: string;
  readonly auth_method: 'regular';
  /** ISO 8601. */
  readonly password_issue_date: string;
}

/** What `login-failures/<uid>` holds (lockout.ts). Times are ms since the epoch, on the writer's clock. */
export interface FailureRecord {
  readonly failures: number;
  readonly first_failure: number;
  /** Set once locked: until when, or 0 for "until an admin sets a new password". */
  readonly locked_until?: number;
}

const userSchema = Type.Object({
  uid: Type.Integer(),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union(roles.map((r) => Type.Literal(r))),
  password_hash: Type.String(),
  auth_method: Type.Literal('regular'),
  password_issue_date: Type.String(),
  email_alerts: Type.Optional(Type.Boolean()),
  cluster_email_alerts: Type.Optional(Type.Boolean()),
  bdbs_email_alerts: Type.Optional(Type.Array(Type.String())),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('locked')])),
});

const failureSchema = Type.Object({
  failures: Type.Integer(),
  first_failure: Type.Number(),
  locked_until: Type.Optional(Type.Number()),
});

export const userRecord = recordType<UserRecord>('user', userSchema);
/** `user-seq`: the last uid handed out (a JSON number). */
export const userSeqRecord = recordType<number>('user sequence', Type.Integer());
export const failureRecord = recordType<FailureRecord>('login failures', failureSchema);

export function userKey(keys: ClusterKeys, uid: number): Key<UserRecord> {
  return typedKey(keys.user(uid), userRecord);
}

export function usersFolder(keys: ClusterKeys): KeyFolder<UserRecord> {
  return keyFolder(keys.users, userRecord);
}

export function failureKey(keys: ClusterKeys, uid: number): Key<FailureRecord> {
  return typedKey(keys.loginFailures(uid), failureRecord);
}

export function userSeqKey(keys: ClusterKeys): Key<number> {
  return typedKey(keys.userSeq, userSeqRecord);
}
