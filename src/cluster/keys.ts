/**
 * The key layout of one cluster, all under one prefix, and the records the cluster layer stores under
 * its keys (docs/design.md, "Keys" and "Typed records"). Every key the project writes is named here,
 * so the layout can be read in one place. A key that holds a JSON record is typed
 * (`Key<MasterRecord>`), and the record's schema is checked where stored JSON enters
 * (store/typed-key.ts). The layers above type their own records (actions/run.ts,
 * users/user-records.ts) on the paths named here, so nothing points upward.
 */
import { Type } from '@sinclair/typebox';

import { keyFolder, keyIn, recordType, typedKey, type Key, type KeyFolder } from '../store/typed-key.js';

/** A node's liveness record, bound to its lease: present exactly while the node is alive. */
/** Who a node is and where it answers: in its liveness record and its registration alike. */
export interface NodeEndpoint {
  readonly uid: number;
  readonly addr: string;
  readonly http_port: number;
  readonly https_port: number;
  readonly software_version: string;
  readonly hostname: string;
}

export interface NodeRecord extends NodeEndpoint {
  readonly pid: number;
  /**
   * Who can interpret `pid`: nodes with the same host_id share a kernel boot and a pid namespace
   * (process-identity.ts). Absent where /proc is not available.
   */
  readonly host_id?: string | undefined;
  /** The process's start time in clock ticks since boot: tells a reused pid apart. */
  readonly proc_start?: number | undefined;
  readonly cores: number;
  /** Bytes. */
  readonly total_memory: number;
  /** Unix ms when this process started. */
  readonly started_at: number;
}

/**
 * One OS sample a node took of itself, published under its lease (`node-stats/<uid>`), named as in
 * Redis Enterprise's stats objects. Only what the node truly measures: no database traffic figures.
 */
export interface NodeStatsRecord {
  readonly uid: number;
  readonly hostname: string;
  /** RE's interval name for the window the sample covers, such as `10sec`. */
  readonly interval: string;
  /** The window, ISO 8601 (UTC, whole seconds, as RE writes them). */
  readonly stime: string;
  readonly etime: string;
  /** Fractions of all CPU time in the window, 0 to 1. */
  readonly cpu_user: number;
  readonly cpu_system: number;
  readonly cpu_idle: number;
  readonly cpu_nice: number;
  readonly cpu_irqs: number;
  /** Bytes. */
  readonly free_memory: number;
  readonly total_memory: number;
  /** Bytes on the file systems of the data folder (persistent) and the temp folder (ephemeral). */
  readonly persistent_storage_free?: number | undefined;
  readonly persistent_storage_avail?: number | undefined;
  readonly ephemeral_storage_free?: number | undefined;
  readonly ephemeral_storage_avail?: number | undefined;
  /** Seconds since this node process started. */
  readonly uptime: number;
}

/** A node's durable registration. */
export interface MemberRecord extends NodeEndpoint {
  /** Unix ms of the first join. */
  readonly joined_at: number;
}

export interface MasterRecord {
  readonly node_uid: number;
  readonly epoch: number;
  /** Unix ms when this node became master. */
  readonly since: number;
  /** Set when the node became master by a `change_master` hand-over rather than an election. */
  readonly via_action?: string | undefined;
  /** With `via_action`: unix ms when the old master wrote the intent (the hand-over's start). */
  readonly via_intent_at?: number | undefined;
  /** The master before this one, as the epoch record knew it when this term began. */
  readonly previous?: EpochRecord | undefined;
  /** Set when this node replaced a dead master before its lease ran out (the fast failover). */
  readonly forced?: ForcedTakeOver | undefined;
}

/** Why a master was replaced before its lease expired; see failure-detector.ts. */
export type DeathSignal = 'process_gone' | 'port_refused';

export interface ForcedTakeOver {
  readonly signal: DeathSignal;
  /** The replaced master's fencing token. */
  readonly from_token: number;
}

/**
 * A node's report that the master's port refuses connections (failure-detector.ts), under the
 * reporter's lease. A majority of live nodes reporting the same token confirms the death.
 */
export interface SuspicionRecord {
  readonly master_uid: number;
  readonly master_token: number;
  /** Unix ms of the first refusal in the run that made this node suspect. */
  readonly since: number;
}

/** The last term handed out, durable: epochs never repeat, and a new master learns who came before. */
export interface EpochRecord {
  readonly epoch: number;
  readonly node_uid?: number | undefined;
  readonly via_action?: string | undefined;
}

/** A hand-over intent, written by the master under its own lease. */
export interface TransferIntent {
  readonly to: number;
  readonly from: number;
  /** The old master's fencing token: the take-over is valid only while it still holds. */
  readonly from_token: number;
  readonly epoch: number;
  readonly action_uid: string;
  /** Unix ms when the intent was written. */
  readonly created_at: number;
}

export interface ClusterConfig {
  readonly name: string;
  readonly uid: string;
  /** Unix seconds. */
  readonly created_time: number;
  /**
   * Redis Enterprise's login lockout settings, by their rladmin names (src/users/lockout.ts). Absent
   * means the RE default.
   */
  readonly login_lockout_threshold?: number;
  readonly login_lockout_counter_reset_after?: number;
  readonly login_lockout_duration?: number;
}

// ---- schemas: what is checked when a stored record enters (every field the code relies on) ----

const optionalNumber = Type.Optional(Type.Number());
const optionalString = Type.Optional(Type.String());

const endpointFields = {
  uid: Type.Integer(),
  addr: Type.String(),
  http_port: Type.Integer(),
  https_port: Type.Integer(),
  software_version: Type.String(),
  hostname: Type.String(),
};

const nodeSchema = Type.Object({
  ...endpointFields,
  pid: Type.Integer(),
  host_id: optionalString,
  proc_start: optionalNumber,
  cores: Type.Number(),
  total_memory: Type.Number(),
  started_at: Type.Number(),
});

const nodeStatsSchema = Type.Object({
  uid: Type.Integer(),
  hostname: Type.String(),
  interval: Type.String(),
  stime: Type.String(),
  etime: Type.String(),
  cpu_user: Type.Number(),
  cpu_system: Type.Number(),
  cpu_idle: Type.Number(),
  cpu_nice: Type.Number(),
  cpu_irqs: Type.Number(),
  free_memory: Type.Number(),
  total_memory: Type.Number(),
  persistent_storage_free: optionalNumber,
  persistent_storage_avail: optionalNumber,
  ephemeral_storage_free: optionalNumber,
  ephemeral_storage_avail: optionalNumber,
  uptime: Type.Number(),
});

const memberSchema = Type.Object({ ...endpointFields, joined_at: Type.Number() });

const epochSchema = Type.Object({
  epoch: Type.Integer(),
  node_uid: optionalNumber,
  via_action: optionalString,
});

const masterSchema = Type.Object({
  node_uid: Type.Integer(),
  epoch: Type.Integer(),
  since: Type.Number(),
  via_action: optionalString,
  via_intent_at: optionalNumber,
  previous: Type.Optional(epochSchema),
  forced: Type.Optional(
    Type.Object({
      signal: Type.Union([Type.Literal('process_gone'), Type.Literal('port_refused')]),
      from_token: Type.Integer(),
    }),
  ),
});

const suspicionSchema = Type.Object({
  master_uid: Type.Integer(),
  master_token: Type.Integer(),
  since: Type.Number(),
});

const transferSchema = Type.Object({
  to: Type.Integer(),
  from: Type.Integer(),
  from_token: Type.Integer(),
  epoch: Type.Integer(),
  action_uid: Type.String(),
  created_at: Type.Number(),
});

const configSchema = Type.Object({
  name: Type.String(),
  uid: Type.String(),
  created_time: Type.Number(),
  login_lockout_threshold: optionalNumber,
  login_lockout_counter_reset_after: optionalNumber,
  login_lockout_duration: optionalNumber,
});

export const nodeRecord = recordType<NodeRecord>('node', nodeSchema);
export const nodeStatsRecord = recordType<NodeStatsRecord>('node stats', nodeStatsSchema);
export const memberRecord = recordType<MemberRecord>('member', memberSchema);
export const masterRecord = recordType<MasterRecord>('master', masterSchema);
export const epochRecord = recordType<EpochRecord>('epoch', epochSchema);
export const suspicionRecord = recordType<SuspicionRecord>('suspicion', suspicionSchema);
export const transferIntent = recordType<TransferIntent>('hand-over intent', transferSchema);
export const clusterConfig = recordType<ClusterConfig>('cluster config', configSchema);

export class ClusterKeys {
  /** `{node_uid, epoch}` bound to the holder's lease; its mod revision is the fencing token. */
  readonly master: Key<MasterRecord>;
  /** The last epoch handed out; durable, so epochs never repeat even when the master key vanishes. */
  readonly epoch: Key<EpochRecord>;
  /** A hand-over intent, bound to the old master's lease. */
  readonly transfer: Key<TransferIntent>;
  /** Cluster identity and settings. */
  readonly config: Key<ClusterConfig>;
  /** Nodes' liveness records, each bound to its node's lease. */
  readonly nodes: KeyFolder<NodeRecord>;
  /** Nodes' latest OS samples (stats), each bound to its node's lease: a node can measure only itself. */
  readonly allNodeStats: KeyFolder<NodeStatsRecord>;
  /** Nodes' durable registrations: they outlive the process, so a dead node is listed as down. */
  readonly members: KeyFolder<MemberRecord>;
  /** Nodes' suspicions that the master died (failure-detector.ts), each bound to its node's lease. */
  readonly suspicions: KeyFolder<SuspicionRecord>;

  constructor(readonly prefix: string) {
    if (!prefix.endsWith('/')) throw new Error(`cluster prefix must end with '/': ${prefix}`);
    this.master = typedKey(`${prefix}master`, masterRecord);
    this.epoch = typedKey(`${prefix}epoch`, epochRecord);
    this.transfer = typedKey(`${prefix}transfer`, transferIntent);
    this.config = typedKey(`${prefix}config`, clusterConfig);
    this.nodes = keyFolder(`${prefix}nodes/`, nodeRecord);
    this.allNodeStats = keyFolder(`${prefix}node-stats/`, nodeStatsRecord);
    this.members = keyFolder(`${prefix}members/`, memberRecord);
    this.suspicions = keyFolder(`${prefix}suspicions/`, suspicionRecord);
  }

  /**
   * Per-node keys are made once per uid, so reads on hot paths allocate nothing. Bounded: a uid comes
   * from a request too (`/v1/nodes/<uid>`), and those must not grow the cache.
   */
  readonly #perNode = new Map<KeyFolder<unknown>, Map<number, Key<unknown>>>();

  #nodeKey<T>(folder: KeyFolder<T>, uid: number): Key<T> {
    let byUid = this.#perNode.get(folder);
    if (!byUid) this.#perNode.set(folder, (byUid = new Map<number, Key<unknown>>()));
    const known = byUid.get(uid);
    if (known) return known as Key<T>;
    const key = keyIn(folder, uid);
    if (byUid.size < 512) byUid.set(uid, key);
    return key;
  }

  node(uid: number): Key<NodeRecord> {
    return this.#nodeKey(this.nodes, uid);
  }
  nodeStats(uid: number): Key<NodeStatsRecord> {
    return this.#nodeKey(this.allNodeStats, uid);
  }
  member(uid: number): Key<MemberRecord> {
    return this.#nodeKey(this.members, uid);
  }
  suspicion(uid: number): Key<SuspicionRecord> {
    return this.#nodeKey(this.suspicions, uid);
  }

  // ---- paths whose records the layers above type (actions/run.ts, users/user-records.ts) ----

  /** An action run (actions/run.ts). */
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
  /** A user (users/user-records.ts). */
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
  /** The key that signs JWTs. Kept out of `config` so no code path that shows config can leak it. */
  get jwtSecret(): string {
    return `${this.prefix}secrets/jwt`;
  }
}
