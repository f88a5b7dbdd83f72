/**
 * The key layout of one cluster, all under one prefix (DESIGN.md, "Keys"). Every key the project
 * writes is named here, so the layout can be read in one place.
 */
export class ClusterKeys {
  constructor(readonly prefix: string) {
    if (!prefix.endsWith('/')) throw new Error(`cluster prefix must end with '/': ${prefix}`);
  }

  /** A node's liveness record, bound to its lease. */
  node(uid: number): string {
    return `${this.prefix}nodes/${uid}`;
  }
  get nodes(): string {
    return `${this.prefix}nodes/`;
  }
  /** A node's latest OS sample (stats), bound to its lease: a node can measure only itself. */
  nodeStats(uid: number): string {
    return `${this.prefix}node-stats/${uid}`;
  }
  get allNodeStats(): string {
    return `${this.prefix}node-stats/`;
  }
  /** A node's durable registration: it outlives the process, so a dead node is listed as down. */
  member(uid: number): string {
    return `${this.prefix}members/${uid}`;
  }
  get members(): string {
    return `${this.prefix}members/`;
  }
  /** `{node_uid, epoch}` bound to the holder's lease; its mod revision is the fencing token. */
  get master(): string {
    return `${this.prefix}master`;
  }
  /** The last epoch handed out; durable, so epochs never repeat even when the master key vanishes. */
  get epoch(): string {
    return `${this.prefix}epoch`;
  }
  /** A hand-over intent, bound to the old master's lease. */
  get transfer(): string {
    return `${this.prefix}transfer`;
  }
  /** A node's suspicion that the master died (failure-detector.ts), bound to that node's lease. */
  suspicion(uid: number): string {
    return `${this.prefix}suspicions/${uid}`;
  }
  get suspicions(): string {
    return `${this.prefix}suspicions/`;
  }
  action(uid: string): string {
    return `${this.prefix}actions/${uid}`;
  }
  get actions(): string {
    return `${this.prefix}actions/`;
  }
  /** The action_uid of the latest run of a cluster action: what `/v1/cluster/actions` shows. */
  clusterAction(name: string): string {
    return `${this.prefix}cluster-actions/${name}`;
  }
  get clusterActions(): string {
    return `${this.prefix}cluster-actions/`;
  }
  /** Present exactly while a run of that name is queued or in flight: the single-instance guard. */
  activeAction(name: string): string {
    return `${this.prefix}active/${name}`;
  }
  get activeActions(): string {
    return `${this.prefix}active/`;
  }
  /**
   * An Idempotency-Key's record: the run it created and the request's fingerprint (src/actions/
   * idempotency.ts). `digest` hashes the user and the key, so keys are per user and of fixed length.
   */
  idempotency(digest: string): string {
    return `${this.prefix}idempotency/${digest}`;
  }
  get idempotencyKeys(): string {
    return `${this.prefix}idempotency/`;
  }
  user(uid: number): string {
    return `${this.prefix}users/${uid}`;
  }
  get users(): string {
    return `${this.prefix}users/`;
  }
  /** Maps a lower-cased email to a user uid; creating it is what makes emails unique. */
  userEmail(email: string): string {
    return `${this.prefix}user-emails/${email.toLowerCase()}`;
  }
  /** A user's failed-login count and lock (src/users/lockout.ts); kept apart from `users/<uid>`. */
  loginFailures(uid: number): string {
    return `${this.prefix}login-failures/${uid}`;
  }
  get loginFailuresPrefix(): string {
    return `${this.prefix}login-failures/`;
  }
  /**
   * Maps a lower-cased user name to a user uid: names are login identifiers too (Redis Enterprise
   * signs users in by name or email), so they are unique, and no name may be another user's email.
   */
  userName(name: string): string {
    return `${this.prefix}user-names/${name.toLowerCase()}`;
  }
  get userSeq(): string {
    return `${this.prefix}user-seq`;
  }
  /** Cluster identity and settings. */
  get config(): string {
    return `${this.prefix}config`;
  }
  /** The key that signs JWTs. Kept out of `config` so no code path that shows config can leak it. */
  get jwtSecret(): string {
    return `${this.prefix}secrets/jwt`;
  }
}
