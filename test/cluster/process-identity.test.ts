/**
 * process-identity.ts on this host's real /proc: the certain "process gone" signal of the fast
 * failover must say 'alive' for a running or stopped process and 'gone' only when it is gone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';

import { hostId, processState, startTicks } from '../../src/cluster/process-identity.js';

describe('process identity', () => {
  it('names this host and this process', () => {
    const id = hostId();
    assert.ok(id, 'Linux has /proc');
    assert.equal(hostId(), id, 'stable within a process');
    const ticks = startTicks();
    assert.ok(Number.isSafeInteger(ticks));
    assert.equal(processState(process.pid, ticks!), 'alive');
  });

  it('says alive for a stopped process, gone once it is killed, and gone for a reused pid', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      const pid = child.pid!;
      const ticks = startTicks(pid);
      assert.ok(ticks !== undefined);
      assert.equal(processState(pid, ticks), 'alive');
      // Another start time under the same pid is another process.
      assert.equal(processState(pid, ticks + 1), 'gone');
      child.kill('SIGSTOP');
      assert.equal(processState(pid, ticks), 'alive', 'a paused process is alive');
      child.kill('SIGKILL');
      await once(child, 'exit');
      assert.equal(processState(pid, ticks), 'gone');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
