/**
 * The wire shapes the client reads and writes: Redis Enterprise's v1 objects as Bosun serves them
 * (README "The API"). These are the client's own declarations of the HTTP contract; the client
 * imports nothing from the server.
 */

export type RunStatus =
  'queued' | 'starting' | 'running' | 'cancelling' | 'cancelled' | 'completed' | 'failed';

export const terminalStatuses: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminalStatus(status: string): boolean {
  return (terminalStatuses as readonly string[]).includes(status);
}

/** An action run (`/v1/actions/<uid>`, `/v1/cluster/actions/<name>`). */
export interface ActionRun {
  readonly action_uid: string;
  readonly name: string;
  readonly status: RunStatus;
  /** 0 to 100. */
  readonly progress: number;
  readonly node_uid?: string;
  /** Unix seconds. */
  readonly creation_time: number;
  readonly error_code?: string;
  readonly error_message?: string;
  // Bosun's additive fields.
  readonly phase?: string;
  readonly requester?: string;
  readonly params?: Readonly<Record<string, unknown>>;
  /** ISO 8601. */
  readonly start_time?: string;
  readonly end_time?: string;
  readonly cancellable?: boolean;
  /** Why `cancellable` is false: past the point of no return, "the target may take over at any moment". */
  readonly cancellable_reason?: string;
  readonly outcome?: Readonly<Record<string, unknown>>;
}

/** A `/v1/actions` task entry on the wire: RE's strings for `progress` and `creation_time`. */
export type WireTask = Omit<ActionRun, 'progress' | 'creation_time'> & {
  readonly task_id?: string;
  readonly progress: string | number;
  readonly creation_time: string | number;
};

/** `GET /v1/nodes`, `GET /v1/nodes/<uid>`. */
export interface NodeObject {
  readonly uid: number;
  readonly addr: string;
  /** `active` or `down`. */
  readonly status: string;
  readonly software_version?: string;
  readonly hostname?: string;
  /** Seconds. */
  readonly uptime?: number;
  readonly cnm_http_port?: number;
  readonly cnm_https_port?: number;
  readonly [field: string]: unknown;
}

/** One entry of `GET /v1/nodes/status`. */
export interface NodeStatus {
  readonly role: 'master' | 'slave';
  readonly node_status?: string;
  /**
   * On the master key's holder when it is not called master: `handing_over` (its hand-over intent is
   * out) or `fenced` (it stopped acting; said by that node itself).
   */
  readonly master_status?: 'handing_over' | 'fenced';
  readonly hostname?: string;
  readonly software_version?: string;
  readonly [field: string]: unknown;
}

/** `GET /v1/nodes/status`: keyed by node uid (a string). */
export type NodesStatus = Readonly<Record<string, NodeStatus>>;

/** `GET /v1/local/node/master_healthcheck`, about the node that answers. */
export interface MasterHealthcheck {
  readonly status: 'active' | 'inactive';
  readonly master_uid?: number;
  /** The uid of the node that answered. */
  readonly node_uid?: number;
  /** What the answering node says of its own role: master, handing_over, fenced or none. */
  readonly master_status?: 'master' | 'handing_over' | 'fenced' | 'none';
}

export const roles = [
  'none',
  'db_viewer',
  'db_member',
  'cluster_viewer',
  'cluster_member',
  'user_manager',
  'admin',
] as const;

export type Role = (typeof roles)[number];

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

/** `GET /v1/users`: Redis Enterprise's user object. */
export interface User {
  readonly uid: number;
  /** Empty for a user who signs in by name. */
  readonly email: string;
  readonly name: string;
  readonly role: string;
  /** The uid of the user's built-in role (`GET /v1/roles`). */
  readonly role_uids?: readonly number[];
  readonly auth_method?: string;
  readonly password_issue_date?: string;
  readonly email_alerts?: boolean;
  readonly cluster_email_alerts?: boolean;
  readonly bdbs_email_alerts?: readonly string[];
  /** `active` or `locked` (a locked user cannot sign in). */
  readonly status?: string;
}

/** A new user needs an email or a name (or both): users sign in with either. */
export interface NewUser {
  readonly email?: string;
  readonly password: string;
  readonly name?: string;
  readonly role?: Role;
  readonly role_uids?: readonly number[];
  readonly email_alerts?: boolean;
  readonly cluster_email_alerts?: boolean;
  readonly bdbs_email_alerts?: readonly string[];
  readonly status?: 'active' | 'locked';
}

/** What `PUT /v1/users/<uid>` may change: any field of a new user. */
export type UserChanges = Partial<NewUser>;

/** `GET /v1/roles`: a built-in role and the management role it grants. */
export interface RoleObject {
  readonly uid: number;
  readonly name: string;
  readonly management: string;
}

/** `GET /v1/cluster`. */
export interface ClusterObject {
  readonly name: string;
  readonly [field: string]: unknown;
}

/** Redis Enterprise's error body. */
export interface ErrorBody {
  readonly error_code: string;
  readonly description: string;
}

/** `GET /v1/logs`: one cluster event (Redis Enterprise's event object; fields beyond these by type). */
export interface LogEntry {
  readonly time: string;
  readonly type: string;
  readonly severity: string;
  /** Bosun's additive key: unique, increasing with time. */
  readonly id?: string;
  readonly [field: string]: unknown;
}

/** `GET /v1/logs` parameters: `stime`/`etime` are ISO 8601 times. */
export interface LogQuery {
  readonly stime?: string | undefined;
  readonly etime?: string | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
}

/** One check of a dry run. */
export interface PreflightCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}

/** `POST /v1/cluster/actions/<name>?dry_run=true`: the same shape for go and no-go. */
export interface Preflight {
  readonly action: string;
  readonly dry_run: true;
  readonly verdict: 'go' | 'no-go';
  readonly checks: readonly PreflightCheck[];
}

/** The history parameters of `GET /v1/actions`; none given is the whole list. */
export interface HistoryQuery {
  readonly name?: string | undefined;
  /** Comma-separated statuses. */
  readonly status?: string | undefined;
  /** Unix seconds or ISO 8601. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
}

export interface HistoryPage {
  readonly actions: ActionRun[];
  readonly next_cursor: string | undefined;
}
