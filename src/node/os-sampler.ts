/**
 * Measures this machine the way Redis Enterprise's node stats name it: CPU time split by kind (from
 * the kernel's per-CPU counters, as deltas over the window), free memory, and free space on the
 * file systems of the data folder and the temp folder. Nothing here is estimated.
 */
import { statfs } from 'node:fs/promises';
import { cpus, freemem, hostname, tmpdir, totalmem } from 'node:os';

import type { NodeStatsRecord } from '../cluster/keys.js';

interface CpuTotals {
  readonly user: number;
  readonly nice: number;
  readonly sys: number;
  readonly idle: number;
  readonly irq: number;
}

function cpuTotals(): CpuTotals {
  const t = { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 };
  for (const c of cpus()) {
    t.user += c.times.user;
    t.nice += c.times.nice;
    t.sys += c.times.sys;
    t.idle += c.times.idle;
    t.irq += c.times.irq;
  }
  return t;
}

async function space(path: string): Promise<{ free: number; avail: number } | undefined> {
  try {
    const s = await statfs(path);
    return { free: s.bfree * s.bsize, avail: s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}

/** RE's interval names (docs/re-contract.md, "Stats"), and the shortest one that covers a window. */
const intervals: ReadonlyArray<readonly [string, number]> = [
  ['1sec', 1],
  ['10sec', 10],
  ['5min', 300],
  ['15min', 900],
  ['1hour', 3600],
  ['12hour', 43200],
  ['1week', 604800],
];

export function intervalName(seconds: number): string {
  return (intervals.find(([, s]) => seconds <= s) ?? intervals[intervals.length - 1]!)[0];
}

const isoSeconds = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class OsSampler {
  #cpu = cpuTotals();
  #since = Date.now();

  constructor(
    private readonly uid: number,
    private readonly dataDir: string,
    private readonly startedAt: number,
  ) {}

  /** The sample of the window since the previous call (or since construction). */
  async sample(): Promise<NodeStatsRecord> {
    const now = Date.now();
    const cpu = cpuTotals();
    const d = {
      user: cpu.user - this.#cpu.user,
      nice: cpu.nice - this.#cpu.nice,
      sys: cpu.sys - this.#cpu.sys,
      idle: cpu.idle - this.#cpu.idle,
      irq: cpu.irq - this.#cpu.irq,
    };
    const total = d.user + d.nice + d.sys + d.idle + d.irq;
    // A window too short for the counters to move (they tick in 10 ms steps) reads as idle.
    const frac = (v: number): number => (total > 0 ? Math.round((v / total) * 1000) / 1000 : 0);
    const since = this.#since;
    this.#cpu = cpu;
    this.#since = now;
    const [persistent, ephemeral] = await Promise.all([space(this.dataDir), space(tmpdir())]);
    return {
      uid: this.uid,
      hostname: hostname(),
      interval: intervalName(Math.max(1, Math.round((now - since) / 1000))),
      stime: isoSeconds(since),
      etime: isoSeconds(now),
      cpu_user: frac(d.user),
      cpu_system: frac(d.sys),
      cpu_idle: total > 0 ? frac(d.idle) : 1,
      cpu_nice: frac(d.nice),
      cpu_irqs: frac(d.irq),
      free_memory: freemem(),
      total_memory: totalmem(),
      persistent_storage_free: persistent?.free,
      persistent_storage_avail: persistent?.avail,
      ephemeral_storage_free: ephemeral?.free,
      ephemeral_storage_avail: ephemeral?.avail,
      uptime: Math.max(0, Math.floor((now - this.startedAt) / 1000)),
    };
  }
}
