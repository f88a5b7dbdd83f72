/** What a result was measured on and from: the machine, the versions and the source revision. */
import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem, type as osType, release } from 'node:os';

export interface MachineInfo {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  readonly loadAverage: readonly number[];
  readonly os: string;
  readonly node: string;
  readonly etcd: string | undefined;
  readonly commit: string | undefined;
  /** Files under src/ with uncommitted changes when the benchmark ran (their compiled form was measured). */
  readonly dirtySrc: readonly string[];
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  const status = run('git', ['status', '--porcelain', '--', 'src']) ?? '';
  return {
    date: new Date().toISOString(),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    os: `${osType()} ${release()}`,
    node: process.version,
    etcd: run('etcd', ['--version'])
      ?.split('\n')[0]
      ?.replace(/^etcd Version:\s*/, ''),
    commit: run('git', ['rev-parse', '--short', 'HEAD']),
    dirtySrc: status
      .split('\n')
      .map((l) => l.slice(3).trim())
      .filter((l) => l.length > 0),
  };
}
