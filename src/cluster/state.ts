/**
 * Read helpers over the view: who is a member, who is alive, who is master. Every API read and
 * every submit-time validation goes through here, so "active" means one thing everywhere.
 */
import type { ClusterKeys, MasterRecord, MemberRecord, NodeRecord } from './keys.js';
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
    return this.view.read(this.keys.master);
  }

  /**
   * The master key's holder as the view sees it, and whether it is handing over: a hand-over intent
   * of its term is out, so the target may already be master. Such a holder is not called master.
   */
  masterClaim(): { readonly uid: number; readonly handingOver: boolean } | undefined {
    const kv = this.view.get(this.keys.master.key);
    const master = this.master();
    if (!kv || !master) return undefined;
    const intent = this.view.read(this.keys.transfer);
    return {
      uid: master.node_uid,
      handingOver:
        intent !== undefined && intent.from === master.node_uid && intent.from_token === kv.modRevision,
    };
  }

  member(uid: number): MemberState | undefined {
    const member = this.view.read(this.keys.member(uid));
    if (!member) return undefined;
    const live = this.view.read(this.keys.node(uid));
    return { uid, member, live, active: live !== undefined };
  }

  /**
   * `member(uid)` once the view holds what the store has of that node, its registration and its
   * liveness record (view.ts, settle): for the answers "no such node" and "not active", which a
   * view a moment behind gets wrong for a node that joined or renewed elsewhere a moment ago.
   */
  async settledMember(uid: number): Promise<MemberState | undefined> {
    const seen = this.member(uid);
    if (seen?.active) return seen;
    await Promise.all([
      this.view.settle(this.keys.member(uid).key),
      this.view.settle(this.keys.node(uid).key),
    ]);
    return this.member(uid);
  }

  /** As `settledMember`, for every node: the view holds every registration and liveness record the store has. */
  async settleMembers(): Promise<void> {
    await Promise.all([
      this.view.settleFolder(this.keys.members.prefix),
      this.view.settleFolder(this.keys.nodes.prefix),
    ]);
  }

  /** Every registered node, by uid. */
  members(): MemberState[] {
    return this.view
      .readAll(this.keys.members)
      .map((member) => {
        const live = this.view.read(this.keys.node(member.uid));
        return { uid: member.uid, member, live, active: live !== undefined };
      })
      .sort((a, b) => a.uid - b.uid);
  }
}
