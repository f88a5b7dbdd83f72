/** Redis Enterprise's management roles (its user object's `role`). `db_viewer` is the default for new users. */
export const roles = [
  'none',
  'db_viewer',
  'db_member',
  'cluster_viewer',
  'cluster_member',
  'user_manager',
  'admin',
] as const;

export type Role = (typeof roles)[number];

export const defaultRole: Role = 'db_viewer';

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

/**
 * Redis Enterprise's built-in roles as `GET /v1/roles` lists them, with the uids RE gives them
 * (RE's roles request docs: 1 Admin through 6 None). `user_manager` came later (7.8) with no
 * documented uid; it takes the next one. Bosun has no custom roles: each role object names one
 * management role, and a user's `role_uids` is the uid of their role.
 */
export interface BuiltInRole {
  readonly uid: number;
  readonly name: string;
  readonly management: Role;
}

export const builtInRoles: readonly BuiltInRole[] = [
  { uid: 1, name: 'Admin', management: 'admin' },
  { uid: 2, name: 'Cluster Member', management: 'cluster_member' },
  { uid: 3, name: 'Cluster Viewer', management: 'cluster_viewer' },
  { uid: 4, name: 'DB Member', management: 'db_member' },
  { uid: 5, name: 'DB Viewer', management: 'db_viewer' },
  { uid: 6, name: 'None', management: 'none' },
  { uid: 7, name: 'User Manager', management: 'user_manager' },
];

export function roleByUid(uid: number): BuiltInRole | undefined {
  return builtInRoles.find((r) => r.uid === uid);
}

export function roleUidOf(role: Role): number {
  return builtInRoles.find((r) => r.management === role)!.uid;
}
