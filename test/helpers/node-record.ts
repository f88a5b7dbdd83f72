/** A node's liveness record for in-process cluster tests: this process, on this host, no ports. */
import { hostname } from 'node:os';

import type { NodeRecord } from '../../src/cluster/keys.js';

export function testNodeRecord(uid: number): NodeRecord {
  return {
    uid,
    addr: '127.0.0.1',
    http_port: 0,
    https_port: 0,
    software_version: 'test',
    hostname: hostname(),
    pid: process.pid,
    cores: 1,
    total_memory: 1,
    started_at: Date.now(),
  };
}
