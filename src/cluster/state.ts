/**
 * Read helpers over the view: who is a member, who is alive, who is master. Every API read and
 * every submit-time validation goes through here, so "active" means one thing everywhere.
 */
import type { ClusterKeys } from './keys.js';
import type { MasterRecord, MemberRecord, NodeRecord } from './records.js';
import type { ClusterView } from './view.js';

export interface MemberState {
  readonly uid: number;
  readonly member: MemberRecord;
  /** The liveness record, present while the node holds a live lease. */
  readonly live: NodeRecord | undefined;
  /** Registered and heartbeating. */
  readonly active: boolean;
}

export class ClusterState {
  constructor(
    readonly view: ClusterView,
    readonly keys: ClusterKeys,
    readonly selfUid: number,
  ) {}

  master(): MasterRecord | undefined {
    return this.view.getJson<MasterRecord>(this.keys.master);
  }

  member(uid: number): MemberState | undefined {
    const member = this.view.getJson<MemberRecord>(this.keys.member(uid));
    if (!member) return undefined;
    const live = this.view.getJson<NodeRecord>(this.keys.node(uid));
    return { uid, member, live, active: live !== undefined };
  }

  /** Every registered node, by uid. */
  members(): MemberState[] {
    return this.view
      .listJson<MemberRecord>(this.keys.members)
      .map((member) => {
        const live = this.view.getJson<NodeRecord>(this.keys.node(member.uid));
        return { uid: member.uid, member, live, active: live !== undefined };
      })
      .sort((a, b) => a.uid - b.uid);
  }
}
