/**
 * `bosun start` (`npm start`): a local cluster of N node processes on one host. It bootstraps the
 * cluster (printing generated admin credentials once), forks the nodes with their logs in
 * `<data-dir>/logs/`, prints one `ready` line once every node serves and a master is elected, reports
 * master changes, and on Ctrl-C stops every node cleanly.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NodeMessage } from '../node/node-message.js';
import { takeSecretFromEnv } from '../node/secret-env.js';
import { LocalEtcd } from './local-etcd.js';

export interface LocalClusterOptions {
  nodes: number;
  dataDir: string;
  store?: string | undefined;
  httpPort: number;
  httpsPort: number;
  leaseTtl?: number | undefined;
  /** Start a local 3-member etcd first and put the nodes on it (`npm run start:etcd`). */
  withEtcd?: boolean | undefined;
}

const bin = fileURLToPath(new URL('../../../bin/bosun.js', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

/**
 * The environment nodes run with. Each scrypt password check allocates 16 MB; once one is freed,
 * glibc raises its mmap threshold and keeps later ones resident, adding 15-30 MB to an idle node's
 * RSS. A fixed threshold returns them to the system (measured in BENCHMARKS.md). An operator's own
 * setting wins.
 */
export function nodeEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? '131072' };
}

export async function startLocalCluster(opts: LocalClusterOptions): Promise<void> {
  await new LocalCluster(opts).start();
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** One run of `bosun start`: the nodes it forked, what they reported, and how to stop them. */
class LocalCluster {
  readonly #children = new Map<number, ChildProcess>();
  readonly #ready = new Set<number>();
  readonly #dataDir: string;
  readonly #logDir: string;
  #adminPassword: string | undefined;
  #master: number | undefined;
  #announced = false;
  #stopping = false;
  #etcd: LocalEtcd | undefined;

  constructor(private readonly opts: LocalClusterOptions) {
    this.#dataDir = resolve(opts.dataDir);
    this.#logDir = join(this.#dataDir, 'logs');
  }

  async start(): Promise<void> {
    // Logs and data are the owner's only (issue 14, finding 5); the nodes set the same umask.
    process.umask(0o077);
    // Read once and handed to each node explicitly; then no longer in this process's environment.
    this.#adminPassword = takeSecretFromEnv(process.env, 'BOSUN_ADMIN_PASSWORD');
    mkdirSync(this.#logDir, { recursive: true, mode: 0o700 });
    process.on('SIGINT', () => void this.stopAll(0));
    process.on('SIGTERM', () => void this.stopAll(0));
    let store = this.opts.store;
    if (this.opts.withEtcd) {
      store = await this.#startEtcd();
      if (store === undefined) return;
    }
    say(`bosun: starting ${this.opts.nodes} nodes; data in ${this.#dataDir}, logs in ${this.#logDir}`);
    for (let uid = 1; uid <= this.opts.nodes; uid++) this.#fork(uid, store);
    setTimeout(() => {
      if (this.#announced || this.#stopping) return;
      say(
        `bosun: the cluster did not become ready within ${READY_TIMEOUT_MS / 1000} s; see the logs in ${this.#logDir}`,
      );
      void this.stopAll(1);
    }, READY_TIMEOUT_MS).unref();
  }

  /** Starts the local etcd and returns its store URL, or stops everything when it does not come up. */
  async #startEtcd(): Promise<string | undefined> {
    const etcd = (this.#etcd = new LocalEtcd(this.#dataDir));
    say(
      `bosun: starting a local 3-member etcd (client ports ${etcd.members.map((m) => m.clientPort).join(', ')})`,
    );
    etcd.start();
    try {
      await etcd.waitHealthy();
    } catch (err) {
      say(`bosun: ${err instanceof Error ? err.message : String(err)} (logs in ${this.#logDir})`);
      await this.stopAll(1);
      return undefined;
    }
    say(`bosun: etcd is up: ${etcd.storeUrl}`);
    return etcd.storeUrl;
  }

  #fork(uid: number, store: string | undefined): void {
    const { opts } = this;
    const log = openSync(join(this.#logDir, `node-${uid}.log`), 'a', 0o600);
    const args = ['node', '--uid', String(uid), '--data-dir', this.#dataDir];
    args.push(
      '--http-port',
      String(opts.httpPort + uid - 1),
      '--https-port',
      String(opts.httpsPort + uid - 1),
    );
    if (store) args.push('--store', store);
    if (opts.leaseTtl) args.push('--lease-ttl', String(opts.leaseTtl));
    const password = this.#adminPassword;
    const child = fork(bin, args, {
      stdio: ['ignore', log, log, 'ipc'],
      env: {
        ...nodeEnvironment(process.env),
        ...(password !== undefined ? { BOSUN_ADMIN_PASSWORD: password } : {}),
      },
    });
    this.#children.set(uid, child);
    child.on('message', (msg: NodeMessage) => this.#onMessage(msg));
    child.on('exit', (code, signal) => {
      if (this.#stopping) return;
      this.#ready.delete(uid);
      say(
        `bosun: node ${uid} exited (${signal ?? `code ${code}`}); see ${join(this.#logDir, `node-${uid}.log`)}`,
      );
      if (!this.#announced) void this.stopAll(1);
    });
  }

  #onMessage(msg: NodeMessage): void {
    switch (msg.type) {
      case 'admin':
        if (msg.generated) {
          say(`bosun: created the admin user ${msg.email} with password ${msg.password}`);
          say('bosun: (printed only this once; set BOSUN_ADMIN_EMAIL/BOSUN_ADMIN_PASSWORD to choose them)');
        } else {
          say(`bosun: created the admin user ${msg.email} (password from BOSUN_ADMIN_PASSWORD)`);
        }
        break;
      case 'failed':
        say(`bosun: node ${msg.uid} failed to start: ${msg.reason}`);
        break;
      case 'ready':
        this.#ready.add(msg.uid);
        this.#maybeAnnounce();
        break;
      case 'master':
        if (msg.masterUid === this.#master) break;
        this.#master = msg.masterUid;
        if (this.#announced) {
          say(
            msg.masterUid === undefined
              ? 'bosun: no master right now'
              : `bosun: master is now node ${msg.masterUid} (epoch ${msg.epoch})`,
          );
        }
        this.#maybeAnnounce();
        break;
      default:
        break;
    }
  }

  #maybeAnnounce(): void {
    const { opts } = this;
    if (this.#announced || this.#ready.size < opts.nodes || this.#master === undefined) return;
    this.#announced = true;
    const urls = [...Array(opts.nodes).keys()].map((i) => `http://127.0.0.1:${opts.httpPort + i}`).join(' ');
    say(
      `bosun: ready: ${opts.nodes} nodes, master is node ${this.#master}. HTTP ${urls} ` +
        `(HTTPS on ports ${opts.httpsPort}-${opts.httpsPort + opts.nodes - 1}). Ctrl-C stops the cluster.`,
    );
    // Every node serves the dashboard (src/api/routes/ui.ts); the first is as good as any.
    say(`bosun: dashboard: http://127.0.0.1:${opts.httpPort}/ (any node's address; sign in as an admin)`);
  }

  async stopAll(code: number): Promise<never> {
    if (this.#stopping) process.exit(1);
    this.#stopping = true;
    say('bosun: stopping all nodes ...');
    await Promise.all([...this.#children.values()].map(stopChild));
    if (this.#etcd) {
      say('bosun: stopping the local etcd ...');
      await this.#etcd.stop();
    }
    say('bosun: stopped.');
    process.exit(code);
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}
