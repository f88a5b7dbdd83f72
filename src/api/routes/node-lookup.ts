/**
 * A node named in a path: anything but a known uid is 404, never a 400 (the path names no node). A
 * uid the view lacks is looked up in the store before the 404 (a node that joined a moment ago).
 */
import type { ClusterReadModel, MemberState } from '../../cluster/cluster-read-model.js';
import { BosunError } from '../../errors/catalogue.js';

export async function findNode(cluster: ClusterReadModel, raw: string): Promise<MemberState> {
  if (!/^[0-9]{1,9}$/.test(raw)) throw new BosunError('node_not_found', `Node ${raw} does not exist.`);
  const uid = Number(raw);
  const found = cluster.member(uid) ?? (await cluster.settledMember(uid));
  if (!found) throw new BosunError('node_not_found', `Node ${raw} does not exist.`);
  return found;
}
