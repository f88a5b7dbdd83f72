/**
 * Internal records to Redis Enterprise wire objects. Stored runs are already in wire shape; this
 * drops what is internal and fixes the types real clients parse (re-api.md §2.1, §5.5, §5.6).
 */
import type { ActionRun } from '../actions/run.js';
import type { MemberState } from '../cluster/state.js';

export type WireRun = Omit<ActionRun, 'checkpoint' | 'cancel_requested'>;

/** Internal fields that never leave the server. */
export function toWireRun(run: ActionRun): WireRun {
  const { checkpoint: _checkpoint, cancel_requested: _cancelRequested, ...wire } = run;
  return wire;
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
