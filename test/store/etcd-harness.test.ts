/**
 * The etcd test harness must leave nothing behind, whatever happens to the test process: a stray
 * 3-member etcd costs ~300 MB of RAM and ~400 MB of preallocated WAL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { waitFor } from './support.js';

/** Gone, or a zombie nobody has reaped yet (it holds no memory, ports or files). */
function dead(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

const childScript = fileURLToPath(new URL('./fixtures/etcd-cluster-child.js', import.meta.url));

void describe('etcd test harness', () => {
  void it(
    'starts, finds the leader through restarts, and stops without leftovers',
    { timeout: 60_000 },
    async () => {
      const cluster = await EtcdCluster.start({ size: 3 });
      const pids = cluster.members.map((m) => m.pid!);
      try {
        const leader = await cluster.leader();
        await leader.kill('SIGKILL');
        assert.equal(leader.running, false);
        const next = await cluster.leader();
        assert.notEqual(next, leader);
        await leader.start();
        await cluster.waitHealthy();
        pids.push(leader.pid!);
      } finally {
        await cluster.stop();
      }
      assert.ok(pids.every(dead));
      assert.equal(existsSync(cluster.root), false);
    },
  );

  void it(
    'kills the members and deletes the data when the test process is killed with SIGKILL',
    { timeout: 60_000 },
    async () => {
      const child = spawn(process.execPath, [childScript, '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', () => reject(new Error('the child exited before reporting')));
      });
      const { pids, root } = JSON.parse(line) as { pids: number[]; root: string };
      assert.ok(pids.every((pid) => !dead(pid)));
      child.kill('SIGKILL');
      await exited;
      await waitFor('the watchdog to kill every member', () => pids.every(dead));
      await waitFor('the watchdog to delete the data', () => !existsSync(root));
    },
  );
});
