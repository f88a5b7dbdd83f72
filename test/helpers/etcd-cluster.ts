/**
 * A real etcd cluster for tests: 1 or 3 members on 127.0.0.1, free ports, a temporary data folder,
 * and per-member fault controls (kill -9, SIGTERM, SIGSTOP/SIGCONT, restart).
 *
 * No etcd may outlive the test process, whatever happens to it:
 * - a normal exit or a failing test: an `exit` hook kills every member still running and deletes the
 *   data (every member's WAL preallocates 64 MB);
 * - SIGINT/SIGTERM: the same hook, then the signal's default action;
 * - SIGKILL of the test process, where no hook runs: a small watchdog shell holds a pipe from this
 *   process; when the pipe closes it kills the members it was told about and deletes the data.
 *
 * Flags follow docs/design.md ("etcd client pitfalls"): `--grpc-keepalive-min-time=1s`, because the store's client pings every
 * second; `--unsafe-no-fsync` unless asked otherwise; short raft timers (heartbeat 50 ms, election 500 ms),
 * which also lower the smallest lease TTL to 1 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePorts } from './ports.js';

export interface EtcdClusterOptions {
  /** Number of members. (Default: 3) */
  readonly size?: number;
  /** The etcd binary. (Default: `etcd` on PATH) */
  readonly binary?: string;
  /** Raft heartbeat interval, in ms. (Default: 50) */
  readonly heartbeatMs?: number;
  /** Raft election timeout, in ms; the smallest lease TTL is 1.5 times this. (Default: 500) */
  readonly electionMs?: number;
  /** Whether etcd fsyncs its WAL; tests rarely need it. (Default: false) */
  readonly fsync?: boolean;
  /** More flags for every member, e.g. `--auto-compaction-retention=...`. */
  readonly extraFlags?: readonly string[];
  /** How long to wait for the cluster to become healthy, in ms. (Default: 30000) */
  readonly startTimeoutMs?: number;
}

export interface MemberStatus {
  readonly memberId: string;
  /** The raft leader's member id as this member sees it ('0' when it knows none). */
  readonly leaderId: string;
  readonly revision: number;
  readonly raftTerm: number;
}

const LOCALHOST = '127.0.0.1';

// ---- process-exit cleanup ----

const liveMembers = new Set<EtcdMember>();
const liveRoots = new Set<string>();
let hooksInstalled = false;

function cleanupSync(): void {
  for (const member of liveMembers) member.killSync();
  liveMembers.clear();
  for (const root of liveRoots) rmSync(root, { recursive: true, force: true });
  liveRoots.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupSync();
      process.kill(process.pid, signal);
    });
  }
}

const WATCHDOG_SCRIPT = `
trap '' INT TERM HUP
root=$1
pids=
while IFS= read -r line; do
  case $line in
    +*) pids="$pids \${line#+}" ;;
    -*) keep=; for p in $pids; do [ "$p" = "\${line#-}" ] || keep="$keep $p"; done; pids=$keep ;;
  esac
done
if [ -n "$pids" ]; then kill -CONT $pids 2>/dev/null; kill -KILL $pids 2>/dev/null; sleep 0.2; fi
rm -rf "$root"
`;

/** Kills the listed processes and deletes `root` once this process's end of its pipe closes. */
class Watchdog {
  readonly #child: ChildProcess;

  constructor(root: string) {
    this.#child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'etcd-watchdog', root], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.#child.unref();
    (this.#child.stdin as unknown as { unref(): void }).unref();
    this.#child.stdin!.on('error', () => undefined);
  }

  add(pid: number): void {
    this.#child.stdin!.write(`+${pid}\n`);
  }

  remove(pid: number): void {
    this.#child.stdin!.write(`-${pid}\n`);
  }

  close(): void {
    this.#child.stdin!.end();
  }
}

// ---- ports and HTTP probes ----

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOCALHOST, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(500, () => done(false));
  });
}

async function httpJson(url: string, body?: object): Promise<unknown> {
  const res = await fetch(url, {
    method: body ? 'POST' : 'GET',
    body: body ? JSON.stringify(body) : null,
    signal: AbortSignal.timeout(1000),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

// ---- members ----

export class EtcdMember {
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;
  #memberId: string | undefined;

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    readonly logFile: string,
    private readonly binary: string,
    private readonly args: readonly string[],
    private readonly watchdog: Watchdog,
  ) {}

  /** `host:port` of the client URL, as the store's etcd URL lists it. */
  get endpoint(): string {
    return `${LOCALHOST}:${this.clientPort}`;
  }

  get clientUrl(): string {
    return `http://${this.endpoint}`;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Whether the member is stopped with SIGSTOP (alive, but answering nothing). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Starts (or restarts, on its existing data) the member; resolves once its client port listens. */
  async start(timeoutMs = 15_000): Promise<void> {
    if (this.#process) return;
    mkdirSync(this.dataDir, { recursive: true });
    const log = openSync(this.logFile, 'a');
    const child = spawn(this.binary, [...this.args], { stdio: ['ignore', log, log] });
    closeSync(log);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${this.binary}`);
    this.#process = child;
    this.#paused = false;
    liveMembers.add(this);
    this.watchdog.add(pid);
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => {
        this.watchdog.remove(pid);
        liveMembers.delete(this);
        if (this.#process === child) this.#process = undefined;
        this.#paused = false;
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await portAccepts(this.clientPort))) {
      if (this.#process !== child)
        throw new Error(`etcd member ${this.name} exited at start:\n${this.logs()}`);
      if (Date.now() > deadline) throw new Error(`etcd member ${this.name} did not listen:\n${this.logs()}`);
      await delay(20);
    }
  }

  /**
   * Sends `signal`. SIGSTOP and SIGCONT pause and resume the member; any other signal is expected to end
   * it, and the promise resolves once it has exited.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#process;
    if (!child) return;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      child.kill(signal);
      this.#paused = signal === 'SIGSTOP';
      return;
    }
    // A stopped process would hold SIGTERM pending forever.
    if (this.#paused && signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    await this.#exited;
  }

  pause(): Promise<void> {
    return this.kill('SIGSTOP');
  }

  resume(): Promise<void> {
    return this.kill('SIGCONT');
  }

  /** A clean stop (SIGTERM), escalating to SIGKILL if the member takes longer than `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.#process;
    if (!child) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      await this.kill('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Used only by the exit hook: no promises can run there. */
  killSync(): void {
    const child = this.#process;
    if (!child) return;
    child.kill('SIGKILL');
  }

  async healthy(): Promise<boolean> {
    if (!this.running || this.paused) return false;
    try {
      const body = (await httpJson(`${this.clientUrl}/health`)) as { health?: string };
      return body.health === 'true';
    } catch {
      return false;
    }
  }

  async status(): Promise<MemberStatus> {
    const body = (await httpJson(`${this.clientUrl}/v3/maintenance/status`, {})) as {
      header: { member_id: string; revision: string };
      leader: string;
      raftTerm: string;
    };
    this.#memberId = body.header.member_id;
    return {
      memberId: body.header.member_id,
      leaderId: body.leader,
      revision: Number(body.header.revision),
      raftTerm: Number(body.raftTerm),
    };
  }

  /** This member's raft id, once learnt from a status call. */
  get memberId(): string | undefined {
    return this.#memberId;
  }

  logs(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

// ---- the cluster ----

export class EtcdCluster {
  private constructor(
    readonly root: string,
    readonly members: readonly EtcdMember[],
    private readonly watchdog: Watchdog,
  ) {}

  /** Starts a fresh cluster and waits until every member reports healthy. */
  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    installExitHooks();
    let lastError: unknown;
    // Ports are probed free and then handed to etcd; another process may take one meanwhile: retry.
    for (let attempt = 0; attempt < 3; attempt++) {
      const cluster = await EtcdCluster.#create(options);
      try {
        await Promise.all(cluster.members.map((m) => m.start()));
        await cluster.waitHealthy(options.startTimeoutMs ?? 30_000);
        return cluster;
      } catch (err) {
        lastError = err;
        await cluster.stop();
      }
    }
    throw lastError;
  }

  static async #create(options: EtcdClusterOptions): Promise<EtcdCluster> {
    const size = options.size ?? 3;
    const root = mkdtempSync(join(tmpdir(), 'bosun-etcd-'));
    liveRoots.add(root);
    const watchdog = new Watchdog(root);
    const ports = await freePorts(size * 2);
    const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
    const peerUrl = (i: number): string => `http://${LOCALHOST}:${ports[2 * i + 1]}`;
    const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
    const token = `bosun-test-${process.pid}-${root.slice(-6)}`;
    const members = names.map((name, i) => {
      const clientUrl = `http://${LOCALHOST}:${ports[2 * i]}`;
      const args = [
        `--name=${name}`,
        `--data-dir=${join(root, name)}`,
        '--logger=zap',
        '--log-level=warn',
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl(i)}`,
        `--initial-advertise-peer-urls=${peerUrl(i)}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${token}`,
        '--initial-cluster-state=new',
        '--grpc-keepalive-min-time=1s',
        `--heartbeat-interval=${options.heartbeatMs ?? 50}`,
        `--election-timeout=${options.electionMs ?? 500}`,
        ...(options.fsync ? [] : ['--unsafe-no-fsync']),
        ...(options.extraFlags ?? []),
      ];
      return new EtcdMember(
        name,
        ports[2 * i]!,
        ports[2 * i + 1]!,
        join(root, name),
        join(root, `${name}.log`),
        options.binary ?? 'etcd',
        args,
        watchdog,
      );
    });
    return new EtcdCluster(root, members, watchdog);
  }

  /** `host:port` of every member, running or not. */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  /** The store URL for `openStore`. */
  url(prefix?: string): string {
    const query = prefix === undefined ? '' : `?prefix=${encodeURIComponent(prefix)}`;
    return `etcd://${this.endpoints.join(',')}${query}`;
  }

  /** Waits until every running, unpaused member reports healthy (which needs a quorum and a leader). */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = this.members.filter((m) => m.running && !m.paused);
      const health = await Promise.all(live.map((m) => m.healthy()));
      if (live.length > 0 && health.every(Boolean)) return;
      if (Date.now() > deadline) {
        throw new Error(`etcd cluster not healthy after ${timeoutMs} ms:\n${this.logs()}`);
      }
      await delay(50);
    }
  }

  /**
   * The member that is raft leader now, as a majority of reachable members agree; waits (up to
   * `timeoutMs`) while an election is under way.
   */
  async leader(timeoutMs = 15_000): Promise<EtcdMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = this.members.filter((m) => m.running && !m.paused);
      const statuses = await Promise.all(live.map((m) => m.status().catch(() => undefined)));
      const votes = new Map<string, number>();
      for (const s of statuses)
        if (s && s.leaderId !== '0') votes.set(s.leaderId, (votes.get(s.leaderId) ?? 0) + 1);
      for (const [id, count] of votes) {
        const member = this.members.find((m) => m.memberId === id);
        if (member?.running && !member.paused && count > this.members.length / 2) return member;
      }
      if (Date.now() > deadline) throw new Error(`no etcd leader agreed on within ${timeoutMs} ms`);
      await delay(50);
    }
  }

  /** The running members that are not the leader. */
  async followers(): Promise<EtcdMember[]> {
    const leader = await this.leader();
    return this.members.filter((m) => m !== leader && m.running);
  }

  /**
   * Stops every member, one after another, and deletes the data. Stopped all at once, each waits for its
   * exiting peers (~7 s in all). The last one gets SIGKILL: a leader with no live peer still tries to hand
   * over leadership on SIGTERM and waits out its 6 s request timeout, and its data is deleted anyway.
   */
  async stop(): Promise<void> {
    for (const member of this.members) {
      if (member.paused) await member.resume();
    }
    for (const member of this.members) {
      const others = this.members.filter((m) => m !== member && m.running);
      await (others.length === 0 ? member.kill('SIGKILL') : member.stop(3000));
    }
    rmSync(this.root, { recursive: true, force: true });
    liveRoots.delete(this.root);
    this.watchdog.close();
  }

  logs(): string {
    return this.members.map((m) => `--- ${m.name} ---\n${m.logs()}`).join('\n');
  }
}
