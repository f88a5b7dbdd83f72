/** The values stored under the cluster keys (see keys.ts), as JSON. */

/** A node's liveness record, bound to its lease: present exactly while the node is alive. */
export interface NodeRecord {
  readonly uid: number;
  readonly addr: string;
  readonly http_port: number;
  readonly https_port: number;
  readonly software_version: string;
  readonly hostname: string;
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
export interface MemberRecord {
  readonly uid: number;
  readonly addr: string;
  readonly http_port: number;
  readonly https_port: number;
  readonly software_version: string;
  readonly hostname: string;
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
