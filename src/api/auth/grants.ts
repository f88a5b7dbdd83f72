/**
 * What one role may do to another user's account (issue 14, finding 2).
 *
 * Redis Enterprise gives `user_manager` the user permissions (create_new_user, update_user,
 * delete_user) and keeps `admin` for full cluster access; its docs do not spell out what a user
 * manager may do to admin accounts. Bosun applies the rule that closes the class: no role may grant
 * more than it holds. A role "covers" another when it holds every permission the other holds
 * (src/api/auth/permissions.ts). An actor may only:
 * - create a user whose role it covers;
 * - change, reset the password of, or delete a user whose current role it covers;
 * - give a user (itself included) a role it covers.
 * So a `user_manager` can manage every role but `admin`, and can never become or touch an admin.
 */
import type { Role } from '../../users/roles.js';
import { permissionsOf } from './permissions.js';

export function covers(actor: Role, target: Role): boolean {
  const held = new Set(permissionsOf(actor));
  return permissionsOf(target).every((p) => held.has(p));
}
