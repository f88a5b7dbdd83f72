/**
 * What the public Redis Enterprise clients decode, written down as shapes (see decode.ts). Each
 * shape names the upstream file it was read from; the real-cluster captures the Rust crate ships
 * (redis-enterprise-rs tests/fixtures/*.json) fix the JSON types where the crate's own types lag.
 * The fields listed are the ones the client declares; Bosun may send more (clients ignore them).
 */
import { opt, req, type Shape } from './decode.js';

/** Statuses of a task (redis-enterprise-rs src/actions.rs, `Action.status` doc comment). */
export const taskStatuses = [
  'queued',
  'starting',
  'running',
  'cancelling',
  'cancelled',
  'completed',
  'failed',
];

/**
 * `GET /v1/cluster` → `ClusterInfo` (redis-enterprise-rs src/cluster.rs). `uid` is `Option<u32>` and
 * the capture tests/fixtures/cluster.json has none: a UUID string there fails the whole decode.
 */
export const ClusterInfo: Shape = {
  uid: opt('u32'),
  name: req('string'),
  created_time: opt('string'),
  email_alerts: opt('bool'),
  rack_aware: opt('bool'),
  cnm_http_port: opt('u16'),
  cnm_https_port: opt('u16'),
  cm_port: opt('u32'),
  handle_redirects: opt('bool'),
  handle_metrics_redirects: opt('bool'),
  http_support: opt('bool'),
  nodes: opt({ vec: 'u32' }),
  total_memory: opt('u64'),
  status: opt('string'),
};

/** `GET /v1/cluster` as the Vault plugin reads it (vault-plugin-database-redis-enterprise internal/sdk/model.go `Cluster`). */
export const VaultCluster: Shape = { name: req('string') };

/** `GET /v1/nodes` → `Vec<Node>` (redis-enterprise-rs src/nodes.rs; capture tests/fixtures/nodes_list.json). */
export const Node: Shape = {
  uid: req('u32'),
  addr: opt('string'),
  status: req({ oneOf: ['active', 'decommissioning', 'down', 'provisioning'] }),
  accept_servers: opt('bool'),
  architecture: opt('string'),
  cores: opt('u32'),
  external_addr: opt({ vec: 'string' }),
  total_memory: opt('u64'),
  shard_count: opt('u32'),
  shard_list: opt({ vec: 'u32' }),
  uptime: opt('u64'),
  software_version: opt('string'),
};

/**
 * A `/v1/actions` task entry → `Action` of redis-enterprise-rs 0.9.1 (src/actions.rs): `progress`,
 * `node_uid`, `task_id` and `creation_time` are `Option<String>` "because the real API returns them
 * as strings"; the capture tests/fixtures/actions_list.json has `"progress":"100"`,
 * `"creation_time":"1760400087"`, `"node_uid":"1"` and `task_id` equal to `action_uid`.
 */
export const V1Task: Shape = {
  action_uid: req('string'),
  name: req('string'),
  status: req({ oneOf: taskStatuses }),
  progress: req('numeric-string'),
  creation_time: req('digit-string'),
  node_uid: opt('digit-string'),
  task_id: req('string'),
  start_time: opt('string'),
  end_time: opt('string'),
  description: opt('string'),
  error: opt('string'),
  error_code: opt('string'),
  error_message: opt('string'),
};

/**
 * The v2 object (RE 7.22+ docs, docs/re-contract.md, "Generic actions endpoints"): numeric progress, integer
 * creation_time.
 */
export const V2Action: Shape = {
  action_uid: req('string'),
  action_type: req({ oneOf: ['task', 'state-machine', 'other'] }),
  name: req('string'),
  status: req({ oneOf: ['queued', 'running', 'completed', 'failed'] }),
  progress: req('f32'),
  creation_time: req('u64'),
  additional_info: opt({
    struct: {
      description: opt('string'),
      error: opt('string'),
      object_type: opt('string'),
      object_uid: opt('string'),
    },
  }),
};

/**
 * The seed's `/v1/cluster/actions` run: the crate reads that path as untyped JSON
 * (redis-enterprise-rs src/cluster.rs `actions`, `action_detail`), so the seed's numeric form stays.
 */
export const ClusterActionRun: Shape = {
  action_uid: req('string'),
  name: req('string'),
  status: req({ oneOf: taskStatuses }),
  progress: req('f64'),
  creation_time: req('u64'),
  node_uid: opt('digit-string'),
};

/** `GET /v1/users` → `Vec<User>` (redis-enterprise-rs src/users.rs; capture tests/fixtures/users_list.json). */
export const User: Shape = {
  uid: req('u32'),
  email: req('string'),
  name: opt('string'),
  role: req('string'),
  status: opt({ oneOf: ['active', 'locked'] }),
  auth_method: opt('string'),
  certificate_subject_line: opt('string'),
  password_issue_date: opt('string'),
  email_alerts: opt('bool'),
  role_uids: opt({ vec: 'u32' }),
  bdbs: opt({ vec: 'u32' }),
};

/** The Vault plugin's `User` (internal/sdk/model.go): encoding/json, so every field may be absent. */
export const VaultUser: Shape = {
  uid: req('i32'),
  role: opt('string'),
  role_uids: opt({ vec: 'i32' }),
  name: opt('string'),
  email: opt('string'),
  password_issue_date: opt('string'),
};

/** `GET /v1/roles` → `Vec<Role>` (redis-enterprise-rs src/users.rs `Role`, src/roles.rs `RoleInfo`; Vault internal/sdk/model.go `Role`). */
export const Role: Shape = {
  uid: req('u32'),
  name: req('string'),
  management: opt({
    oneOf: ['none', 'db_viewer', 'db_member', 'cluster_viewer', 'cluster_member', 'user_manager', 'admin'],
  }),
  data_access: opt('string'),
};

/** `POST /v1/users/authorize`: RE's answer (docs/re-contract.md, "Authentication"). */
export const AccessToken: Shape = { access_token: req('string') };

/** One interval of a stats object (captures tests/fixtures/nodes_stats.json and cluster_stats.json). */
export const StatsInterval: Shape = {
  interval: req({ oneOf: ['1sec', '10sec', '5min', '15min', '1hour', '12hour', '1week'] }),
  stime: req('datetime'),
  etime: req('datetime'),
  cpu_user: opt('f64'),
  cpu_system: opt('f64'),
  cpu_idle: opt('f64'),
  cpu_nice: opt('f64'),
  cpu_irqs: opt('f64'),
  cpu_iowait: opt('f64'),
  cpu_steal: opt('f64'),
  free_memory: opt('f64'),
  available_memory: opt('f64'),
  persistent_storage_free: opt('f64'),
  persistent_storage_avail: opt('f64'),
  ephemeral_storage_free: opt('f64'),
  ephemeral_storage_avail: opt('f64'),
};

/** `GET /v1/nodes/stats`: a bare array of these (capture tests/fixtures/nodes_stats.json: numeric `uid`). */
export const NodeStatsEntry: Shape = {
  uid: req('u32'),
  intervals: req({ vec: { struct: StatsInterval } }),
};

/**
 * `GET /v1/nodes/{uid}/stats` → `NodeStats` (redis-enterprise-rs src/nodes.rs `NodeHandler::stats`):
 * a required numeric `uid`, every figure optional.
 */
export const NodeStats: Shape = {
  uid: req('u32'),
  cpu_user: opt('f64'),
  cpu_system: opt('f64'),
  cpu_idle: opt('f64'),
  free_memory: opt('u64'),
  persistent_storage_free: opt('u64'),
  ephemeral_storage_free: opt('u64'),
  intervals: opt({ vec: { struct: StatsInterval } }),
};

/** `GET /v1/cluster/stats` (capture tests/fixtures/cluster_stats.json; the crate reads it untyped). */
export const ClusterStats: Shape = { intervals: req({ vec: { struct: StatsInterval } }) };

/**
 * `GET /v1/bootstrap`: the capture tests/fixtures/bootstrap_status.json (`bootstrap_status.state`,
 * read by the Vault plugin's bootstrap/redis-setup.sh); the crate's `BootstrapStatus` (src/bootstrap.rs)
 * requires a top-level `status`.
 */
export const Bootstrap: Shape = {
  bootstrap_status: req({
    struct: {
      state: req({
        oneOf: ['idle', 'initiated', 'creating_cluster', 'joining_cluster', 'completed', 'error'],
      }),
      start_time: opt('string'),
      end_time: opt('string'),
    },
  }),
  local_node_info: opt({
    struct: { uid: opt('digit-string'), software_version: opt('string'), cores: opt('u32') },
  }),
  status: req('string'),
  progress: opt('f32'),
  message: opt('string'),
};
