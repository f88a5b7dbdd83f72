/**
 * Which role holds which REST permission (docs/re-contract.md, "Roles and permissions", the 7.8+ table with
 * `user_manager`). Every route names exactly one permission; this table is the only place that grants them.
 */
import { roles, type Role } from '../../users/roles.js';

/** Every role but `none`. */
const viewers: readonly Role[] = roles.filter((r) => r !== 'none');
const userManagers: readonly Role[] = ['user_manager', 'admin'];
const admins: readonly Role[] = ['admin'];
// With user_manager, as RE's Cluster Manager UI table has it ("View cluster metrics"); its REST table
// omits it. Without it a user manager could not create the cluster viewers RE lets it create
// (grants.ts: no role grants more than it holds). docs/decisions.md records the choice.
const metricsViewers: readonly Role[] = ['cluster_viewer', 'cluster_member', 'user_manager', 'admin'];
const logViewers: readonly Role[] = [
  'db_member',
  'cluster_viewer',
  'cluster_member',
  'user_manager',
  'admin',
];

export const permissionTable = {
  view_status_of_cluster_action: viewers,
  start_cluster_action: admins,
  cancel_cluster_action: admins,
  view_cluster_info: viewers,
  view_all_nodes_info: viewers,
  view_node_info: viewers,
  view_cluster_stats: viewers,
  view_all_nodes_stats: viewers,
  view_node_stats: viewers,
  view_status_of_all_node_actions: viewers,
  view_status_of_node_action: viewers,
  view_all_bdbs_info: viewers,
  view_all_shard_stats: viewers,
  view_all_roles_info: viewers,
  view_role_info: viewers,
  view_all_users_info: userManagers,
  view_user_info: userManagers,
  create_new_user: userManagers,
  update_user: userManagers,
  delete_user: userManagers,
  view_all_metrics: metricsViewers,
  view_logged_events: logViewers,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissionTable;

export function roleHas(role: Role, permission: Permission): boolean {
  return permissionTable[permission].includes(role);
}

/** Every permission a role holds, for `GET /v1/users/permissions`-style answers and for tests. */
export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(permissionTable) as Permission[]).filter((p) => roleHas(role, p));
}
