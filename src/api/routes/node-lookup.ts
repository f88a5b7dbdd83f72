/** A node named in a path: anything but a known uid is 404, never a 400 (the path names no node). */
import type { ClusterReadModel, MemberState } from '../../cluster/cluster-read-model.js';
import { BosunError } from '../../errors/catalogue.js';

export function findNode(cluster: ClusterReadModel, raw: string): MemberState {
  const found = /^[0-9]{1,9}$/.test(raw) ? cluster.member(Number(raw)) : undefined;
  if (!found) throw new BosunError('node_not_found', `Node ${raw} does not exist.`);
  return found;
}
