/**
 * FailureDetector in-process on a real SQLite store, with a real child process standing in for the
 * master's process and a real TCP listener for its port: which observations may trigger a take-over.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { pino } from 'pino';

import { defaultFailureDetectorSettings, FailureDetector } from '../../src/cluster/failure-detector.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import { MasterRole } from '../../src/cluster/master.js';
import { Membership } from '../../src/cluster/membership.js';
import { hostId, startTicks } from '../../src/cluster/process-identity.js';
import type { MasterRecord, NodeRecord } from '../../src/cluster/keys.js';
import { ClusterView } from '../../src/cluster/view.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { eventually, sleep } from '../helpers/process-cluster.js';

const log = pino({ level: 'silent' });
const keys = new ClusterKeys('/fd/');

interface Member {
  store: SqliteStore;
  view: ClusterView;
  membership: Membership;
  master: MasterRole;
  detector: FailureDetector;
}

describe('FailureDetector', () => {
  let dir: string;
  const members: Member[] = [];
  const children: ChildProcess[] = [];
  const servers: Server[] = [];

  async function listener(): Promise<number> {
    const server = createServer((socket) => socket.destroy());
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  async function child(): Promise<ChildProcess> {
    const proc = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' });
    children.push(proc);
    await once(proc, 'spawn');
    return proc;
  }

  async function joinNode(uid: number, record: Partial<NodeRecord> = {}, mode: 'on' | 'port' = 'on') {
    const store = new SqliteStore({ path: join(dir, 'store.db'), pollIntervalMs: 5 });
    const view = new ClusterView(store, keys.prefix, log);
    await view.start();
    const full: NodeRecord = {
      uid,
      addr: '127.0.0.1',
      http_port: 1,
      https_port: 1,
      software_version: 'test',
      hostname: hostname(),
      pid: process.pid,
      host_id: hostId(),
      proc_start: startTicks(),
      cores: 1,
      total_memory: 1,
      started_at: Date.now(),
      ...record,
    };
    // A long TTL: nothing in these tests may happen by lease expiry.
    const membership = new Membership(store, keys, full, 20_000, log);
    const master = new MasterRole(store, view, keys, membership, log);
    const detector = new FailureDetector(
      store,
      view,
      keys,
      membership,
      master,
      { ...defaultFailureDetectorSettings, mode },
      log,
    );
    await membership.join();
    master.start();
    detector.start();
    const m: Member = { store, view, membership, master, detector };
    members.push(m);
    return m;
  }

  afterEach(async () => {
    for (const m of members.splice(0)) {
      m.detector.stop();
      m.master.stop();
      m.membership.lease?.release();
      await m.view.close();
      await m.store.close();
    }
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const s of servers.splice(0)) s.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const masterOf = (m: Member): MasterRecord | undefined => m.view.read(keys.master);

  it('takes over at once when the master process it saw alive is gone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-fd-'));
    const proc = await child();
    const port = await listener();
    const a = await joinNode(1, { pid: proc.pid!, proc_start: startTicks(proc.pid), http_port: port });
    await eventually(() => a.master.term);
    const b = await joinNode(2);
    // Seen alive for a while: nothing happens, the port is open too.
    await sleep(500);
    assert.equal(masterOf(b)?.node_uid, 1);
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    const now = await eventually(() => (masterOf(b)?.node_uid === 2 ? masterOf(b) : undefined));
    assert.equal(now.forced?.signal, 'process_gone');
    assert.equal(b.detector.takeOvers, 1);
  });

  it('never takes a process it never saw for a dead one (a /proc that hides it), and waits on an open port', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-fd-'));
    const proc = await child();
    const pid = proc.pid!;
    const ticks = startTicks(pid)!;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    // The record names a process this observer cannot see from the start, as ProtectProc=invisible
    // would make it; its port is open.
    const port = await listener();
    const a = await joinNode(1, { pid, proc_start: ticks, http_port: port });
    await eventually(() => a.master.term);
    const b = await joinNode(2);
    await sleep(1000);
    assert.equal(masterOf(b)?.node_uid, 1);
    assert.equal(b.detector.takeOvers, 0);
  });

  it('does not act alone on a refused port: a majority must suspect', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-fd-'));
    const port = await listener();
    const a = await joinNode(1, { http_port: port }, 'port');
    await eventually(() => a.master.term);
    const b = await joinNode(2, {}, 'port');
    // A third member that never suspects (its detector is stopped): 2 of 3 are needed.
    const c = await joinNode(3, {}, 'port');
    c.detector.stop();
    await sleep(300);
    // The port closes: the master "dies" as far as the port can tell.
    servers[0]!.close();
    await eventually(async () => ((await b.store.get(keys.suspicion(2).key)) ? true : undefined), 5000);
    await sleep(500);
    assert.equal(masterOf(b)?.node_uid, 1, 'one suspicion of three live nodes is not a majority');
    // The third node agrees: now a majority suspects, and one of them takes over.
    const suspicion = JSON.parse((await b.store.get(keys.suspicion(2).key))!.value) as {
      master_token: number;
    };
    await c.store.txn({
      compare: [],
      success: [
        {
          type: 'put',
          key: keys.suspicion(3).key,
          value: JSON.stringify({ master_uid: 1, master_token: suspicion.master_token, since: Date.now() }),
          lease: c.membership.lease!.id,
        },
      ],
    });
    const now = await eventually(() => (masterOf(b)?.node_uid === 2 ? masterOf(b) : undefined));
    assert.equal(now.forced?.signal, 'port_refused');
    // The new master's own suspicion is withdrawn once the old master is gone.
    await eventually(async () => ((await b.store.get(keys.suspicion(2).key)) ? undefined : true));
  });
});
