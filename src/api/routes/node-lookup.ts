/** A node named in a path: anything but a known uid is 404, never a 400 (the path names no node). */
import type { MemberState } from '../../cluster/state.js';
import { BosunError } from '../../errors/catalogue.js';
import type { ApiDeps } from '../server.js';

export function findNode(deps: Pick<ApiDeps, 'state'>, raw: string): MemberState {
  const found = /^[0-9]{1,9}$/.test(raw) ? deps.state.member(Number(raw)) : undefined;
  if (!found) throw new BosunError('node_not_found', `Node ${raw} does not exist.`);
  return found;
}
