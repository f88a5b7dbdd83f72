/**
 * Internal records to Redis Enterprise wire objects. Stored runs are already in the seed's wire shape
 * (`/v1/cluster/actions`); this drops what is internal and renders the other two forms real clients parse
 * (docs/decisions.md, "Three forms of an action"; docs/re-contract.md, "The action object" and "Generic
 * actions endpoints" and "Nodes and the cluster object").
 */
import type { ActionRun } from '../actions/run.js';
import type { MemberState } from '../cluster/cluster-read-model.js';

export type WireRun = Omit<ActionRun, 'checkpoint' | 'cancel_requested'>;

/** `/v1/cluster/actions*`: the seed's form, numeric `progress` and `creation_time`. */
export function toWireRun(run: ActionRun): WireRun {
  const { checkpoint: _checkpoint, cancel_requested: _cancelRequested, ...wire } = run;
  return wire;
}

/** `/v1/actions*` task entries: RE sends `progress`, `creation_time` and `node_uid` as strings. */
export type WireTask = Omit<WireRun, 'progress' | 'creation_time'> & {
  readonly task_id: string;
  readonly progress: string;
  readonly creation_time: string;
};

export function toWireTask(run: ActionRun): WireTask {
  const wire = toWireRun(run);
  return {
    ...wire,
    // A real cluster's task entries carry the task id, equal to the action uid.
    task_id: wire.action_uid,
    progress: String(wire.progress),
    creation_time: String(wire.creation_time),
  };
}

/**
 * The v2 status vocabulary (docs/re-contract.md, "Generic actions endpoints"): four values, so every run maps
 * onto one of them.
 */
export type V2Status = 'queued' | 'running' | 'completed' | 'failed';

export interface WireV2Action {
  readonly action_uid: string;
  readonly action_type: 'task';
  readonly name: string;
  readonly status: V2Status;
  readonly progress: number;
  readonly creation_time: number;
  readonly additional_info?: {
    readonly description?: string;
    readonly error?: string;
    readonly object_type?: string;
    readonly object_uid?: string;
  };
}

function v2Status(status: ActionRun['status']): V2Status {
  switch (status) {
    case 'queued':
      return 'queued';
    case 'completed':
      return 'completed';
    // v2 has no `cancelled`: a poll loop that knows only the four values must still stop.
    case 'failed':
    case 'cancelled':
      return 'failed';
    default:
      return 'running';
  }
}

/**
 * `/v2/actions*`: RE 7.22's object (docs/re-contract.md, "Generic actions endpoints"); `additional_info` only
 * when non-empty.
 */
export function toWireV2Action(run: ActionRun): WireV2Action {
  const info: { description?: string; error?: string; object_type?: string; object_uid?: string } = {};
  if (run.node_uid !== undefined) {
    info.object_type = 'node';
    info.object_uid = run.node_uid;
  }
  if (run.status === 'cancelled') info.description = 'Cancelled';
  if (run.status === 'failed' && run.error_message !== undefined) info.error = run.error_message;
  return {
    action_uid: run.action_uid,
    action_type: 'task',
    name: run.name,
    status: v2Status(run.status),
    progress: run.progress,
    creation_time: run.creation_time,
    ...(Object.keys(info).length > 0 ? { additional_info: info } : {}),
  };
}

export function toWireNode(m: MemberState, now: number): Record<string, unknown> {
  const live = m.live;
  return {
    uid: m.uid,
    addr: m.member.addr,
    status: m.active ? 'active' : 'down',
    software_version: live?.software_version ?? m.member.software_version,
    hostname: m.member.hostname,
    uptime: live ? Math.max(0, Math.floor((now - live.started_at) / 1000)) : 0,
    cores: live?.cores ?? 0,
    total_memory: live?.total_memory ?? 0,
    shard_count: 0,
    shard_list: [],
    external_addr: [],
    accept_servers: true,
    // Additive: the ports this node's API listens on.
    cnm_http_port: m.member.http_port,
    cnm_https_port: m.member.https_port,
  };
}

export function toWireNodeStatus(m: MemberState, masterUid: number | undefined): Record<string, unknown> {
  return {
    hostname: m.member.hostname,
    role: m.uid === masterUid ? 'master' : 'slave',
    node_status: m.active ? 'active' : 'down',
    software_version: m.live?.software_version ?? m.member.software_version,
    cores: m.live?.cores ?? 0,
    total_memory: m.live?.total_memory ?? 0,
    master_shards: [],
    slave_shards: [],
  };
}

/** Unix seconds as RE writes times: ISO 8601, UTC, without milliseconds. */
export function isoSeconds(unixSeconds: number | undefined): string | undefined {
  return unixSeconds === undefined
    ? undefined
    : new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
