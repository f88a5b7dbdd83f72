/**
 * Which process a node is, precisely enough for another node on the same host to tell for certain
 * that it is gone (the fast failover's "certain death" signal, see failure-detector.ts).
 *
 * A pid alone is not enough: pids are reused, and a pid means nothing in another pid namespace
 * (a container) or on another machine. So a node publishes, with its pid:
 * - `host_id`: the kernel's boot id plus this process's pid-namespace inode. Two nodes with the same
 *   host_id see the same pids. Machines, reboots and containers all give different values.
 * - `proc_start`: the process's start time in clock ticks since boot (/proc/<pid>/stat, field 22).
 *   A reused pid has another start time.
 *
 * Linux only (/proc); elsewhere `hostId()` is undefined and the pid signal is simply not used.
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** This process's host identity, or undefined where /proc is not available. */
export function hostId(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    return boot && ns ? `${boot}/${ns}` : undefined;
  } catch {
    return undefined;
  }
}

interface ProcStat {
  readonly state: string;
  readonly startTicks: number;
}

function readStat(pid: number | 'self'): ProcStat | 'gone' | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = Number(fields[19]);
  if (!state || !Number.isSafeInteger(startTicks)) return undefined;
  return { state, startTicks };
}

/** A process's start time in clock ticks since boot (this process's by default), or undefined. */
export function startTicks(pid: number | 'self' = 'self'): number | undefined {
  const stat = readStat(pid);
  return stat && stat !== 'gone' ? stat.startTicks : undefined;
}

/**
 * Whether the process `pid` that started at `started` (clock ticks) still exists, asked on the same host:
 * - 'gone': certainly gone: no such pid, a different process under that pid, or a zombie (killed,
 *   not yet reaped by its parent: it holds no sockets, no locks and runs no code);
 * - 'alive': it exists, running or stopped (a SIGSTOPped process is alive and is waited out);
 * - 'unknown': /proc could not answer.
 */
export function processState(pid: number, started: number): 'gone' | 'alive' | 'unknown' {
  const stat = readStat(pid);
  if (stat === 'gone') return 'gone';
  if (!stat) return 'unknown';
  if (stat.startTicks !== started) return 'gone';
  return stat.state === 'Z' || stat.state === 'X' ? 'gone' : 'alive';
}
