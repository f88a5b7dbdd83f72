/**
 * A local 3-member etcd for `npm run start:etcd`: the multi-machine layout in miniature. Members
 * listen on etcd's own documented local ports (client 2379, 22379, 32379; peer 2380, 22380, 32380),
 * keep their data under `<data-dir>/etcd/`, and are stopped one after another (all at once, each
 * waits for its exiting peers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalEtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  process: ChildProcess | undefined;
}

export const localEtcdPorts = [
  { clientPort: 2379, peerPort: 2380 },
  { clientPort: 22379, peerPort: 22380 },
  { clientPort: 32379, peerPort: 32380 },
] as const;

export class LocalEtcd {
  readonly members: LocalEtcdMember[];

  constructor(readonly dataDir: string) {
    this.members = localEtcdPorts.map((p, i) => ({ name: `bosun-etcd-${i + 1}`, ...p, process: undefined }));
  }

  /** `etcd://host:port,...` for the nodes. */
  get storeUrl(): string {
    return `etcd://${this.members.map((m) => `127.0.0.1:${m.clientPort}`).join(',')}`;
  }

  start(): void {
    const cluster = this.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
    const logDir = join(this.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true, mode: 0o700 });
    for (const m of this.members) {
      const dir = join(this.dataDir, 'etcd', m.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const log = openSync(join(logDir, `${m.name}.log`), 'a', 0o600);
      m.process = spawn(
        'etcd',
        [
          '--name',
          m.name,
          '--data-dir',
          dir,
          '--listen-client-urls',
          `http://127.0.0.1:${m.clientPort}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${m.clientPort}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${m.peerPort}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${m.peerPort}`,
          '--initial-cluster',
          cluster,
          '--initial-cluster-token',
          'bosun-local',
          // The store's client pings every second (docs/design.md, "etcd client pitfalls", 4).
          '--grpc-keepalive-min-time',
          '1s',
          // etcd keeps every revision unless told; progress updates add up.
          '--auto-compaction-mode',
          'revision',
          '--auto-compaction-retention',
          '10000',
        ],
        { stdio: ['ignore', log, log] },
      );
    }
  }

  /** Resolves once every member answers /health, or rejects after `timeoutMs`. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const m of this.members) {
        if (m.process?.exitCode !== null && m.process?.exitCode !== undefined) {
          throw new Error(`etcd member ${m.name} exited with code ${m.process.exitCode}; see its log`);
        }
      }
      const health = await Promise.all(
        this.members.map(async (m) => {
          try {
            const res = await fetch(`http://127.0.0.1:${m.clientPort}/health`, {
              signal: AbortSignal.timeout(1000),
            });
            return res.ok && ((await res.json()) as { health?: string }).health === 'true';
          } catch {
            return false;
          }
        }),
      );
      if (health.every(Boolean)) return;
      if (Date.now() > deadline)
        throw new Error(`the local etcd did not become healthy within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    for (const m of this.members) {
      const proc = m.process;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        proc.kill('SIGTERM');
      });
    }
  }
}
