/**
 * The questions the API asks of the cluster (docs/design.md, "Layers"): the cluster's identity, its
 * nodes, which of them acts as master and why none might, and each node's latest OS sample. The API
 * asks these, never the key layout or the view, so the layout can change below it.
 */
import type { MasterStatus } from './master.js';
import type { ClusterKeys, MasterRecord, NodeStatsRecord } from './keys.js';
import type { ClusterState, MemberState } from './state.js';
import type { ClusterView } from './view.js';

export type { MemberState } from './state.js';
export type { MasterStatus } from './master.js';

/** Who acts as master, as the cluster's nodes are shown. */
export interface MasterRoles {
  /** The node to call master, if any. */
  readonly masterUid: number | undefined;
  /** The master key's holder, which may not be called master (`why` says why not). */
  readonly holder: number | undefined;
  /** Why the holder is not called master: it is handing over, or (this node) fenced. */
  readonly why: 'handing_over' | 'fenced' | undefined;
}

/** What this node alone knows of its own role: the master role object answers (cluster/master.ts). */
export interface SelfRole {
  /** Only `master` makes a node say it is master. */
  status(): MasterStatus;
  /** While `status` is master: since when, without a break (unix ms). */
  since(): number | undefined;
}

export interface ClusterIdentity {
  readonly name: string;
  /** Unix seconds, when the cluster's identity record exists. */
  readonly createdTime: number | undefined;
}

export class ClusterReadModel {
  constructor(
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly state: ClusterState,
    readonly selfUid: number,
    readonly selfRole: SelfRole,
  ) {}

  /** Moves with every change the view applies: answers built from this model may be kept until it moves. */
  get revision(): number {
    return this.view.revision;
  }

  identity(): ClusterIdentity {
    const config = this.view.read(this.keys.config);
    return { name: config?.name ?? 'bosun', createdTime: config?.created_time };
  }

  /** Every registered node, by uid. */
  members(): MemberState[] {
    return this.state.members();
  }

  member(uid: number): MemberState | undefined {
    return this.state.member(uid);
  }

  /** `member(uid)`, with an absence or inactivity confirmed by the store (state.ts, settledMember). */
  settledMember(uid: number): Promise<MemberState | undefined> {
    return this.state.settledMember(uid);
  }

  /** This node's own entry. */
  self(): MemberState | undefined {
    return this.state.member(this.selfUid);
  }

  /** The master key's record: its holder, epoch and since when, whether or not it is acting (`roles`). */
  master(): MasterRecord | undefined {
    return this.state.master();
  }

  /**
   * The node to call master: the master key's holder, unless an intent of its term is out (it is
   * handing over) or it is this node and this node knows it has stepped down (fenced). Those cases
   * name no master, and say why.
   */
  roles(): MasterRoles {
    const claim = this.state.masterClaim();
    if (!claim) return { masterUid: undefined, holder: undefined, why: undefined };
    const self = claim.uid === this.selfUid ? this.selfRole.status() : undefined;
    const why = claim.handingOver
      ? 'handing_over'
      : self === 'fenced' || self === 'handing_over'
        ? self
        : undefined;
    return { masterUid: why ? undefined : claim.uid, holder: claim.uid, why };
  }

  /** A node's latest OS sample, while it is alive to publish one (node/stats-publisher.ts). */
  nodeStats(uid: number): NodeStatsRecord | undefined {
    return this.view.read(this.keys.nodeStats(uid));
  }
}
