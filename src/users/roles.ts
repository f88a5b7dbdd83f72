/** Redis Enterprise's management roles (re-api.md §3.3). `db_viewer` is the default for new users. */
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
