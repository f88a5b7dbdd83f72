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

import type { NodeMessage } from '../cli/node-command.js';
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
  const dataDir = resolve(opts.dataDir);
  const logDir = join(dataDir, 'logs');
  // Logs and data are the owner's only (issue 14, finding 5); the nodes set the same umask.
  process.umask(0o077);
  // Read once and handed to each node explicitly; then no longer in this process's environment.
  const adminPassword = takeSecretFromEnv(process.env, 'BOSUN_ADMIN_PASSWORD');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const say = (line: string): void => void process.stdout.write(`${line}\n`);

  const children = new Map<number, ChildProcess>();
  const ready = new Set<number>();
  let master: number | undefined;
  let announced = false;
  let stopping = false;

  const urls = (): string =>
    [...Array(opts.nodes).keys()].map((i) => `http://127.0.0.1:${opts.httpPort + i}`).join(' ');

  const maybeAnnounce = (): void => {
    if (announced || ready.size < opts.nodes || master === undefined) return;
    announced = true;
    say(
      `bosun: ready: ${opts.nodes} nodes, master is node ${master}. HTTP ${urls()} ` +
        `(HTTPS on ports ${opts.httpsPort}-${opts.httpsPort + opts.nodes - 1}). Ctrl-C stops the cluster.`,
    );
    // Every node serves the dashboard (src/api/routes/ui.ts); the first is as good as any.
    say(`bosun: dashboard: http://127.0.0.1:${opts.httpPort}/ (any node's address; sign in as an admin)`);
  };

  let etcd: LocalEtcd | undefined;
  const stopAll = async (code: number): Promise<never> => {
    if (stopping) process.exit(1);
    stopping = true;
    say('bosun: stopping all nodes ...');
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    if (etcd) {
      say('bosun: stopping the local etcd ...');
      await etcd.stop();
    }
    say('bosun: stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  let store = opts.store;
  if (opts.withEtcd) {
    etcd = new LocalEtcd(dataDir);
    say(
      `bosun: starting a local 3-member etcd (client ports ${etcd.members.map((m) => m.clientPort).join(', ')})`,
    );
    etcd.start();
    try {
      await etcd.waitHealthy();
    } catch (err) {
      say(`bosun: ${err instanceof Error ? err.message : String(err)} (logs in ${logDir})`);
      return stopAll(1);
    }
    store = etcd.storeUrl;
    say(`bosun: etcd is up: ${store}`);
  }
  say(`bosun: starting ${opts.nodes} nodes; data in ${dataDir}, logs in ${logDir}`);
  for (let uid = 1; uid <= opts.nodes; uid++) {
    const log = openSync(join(logDir, `node-${uid}.log`), 'a', 0o600);
    const args = [
      'node',
      '--uid',
      String(uid),
      '--data-dir',
      dataDir,
      '--http-port',
      String(opts.httpPort + uid - 1),
      '--https-port',
      String(opts.httpsPort + uid - 1),
    ];
    if (store) args.push('--store', store);
    if (opts.leaseTtl) args.push('--lease-ttl', String(opts.leaseTtl));
    const child = fork(bin, args, {
      stdio: ['ignore', log, log, 'ipc'],
      env: {
        ...nodeEnvironment(process.env),
        ...(adminPassword !== undefined ? { BOSUN_ADMIN_PASSWORD: adminPassword } : {}),
      },
    });
    children.set(uid, child);
    child.on('message', (msg: NodeMessage) => {
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
          ready.add(msg.uid);
          maybeAnnounce();
          break;
        case 'master':
          if (msg.masterUid !== master) {
            master = msg.masterUid;
            if (announced) {
              say(
                master === undefined
                  ? 'bosun: no master right now'
                  : `bosun: master is now node ${master} (epoch ${msg.epoch})`,
              );
            }
            maybeAnnounce();
          }
          break;
        default:
          break;
      }
    });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      ready.delete(uid);
      say(`bosun: node ${uid} exited (${signal ?? `code ${code}`}); see ${join(logDir, `node-${uid}.log`)}`);
      if (!announced) void stopAll(1);
    });
  }

  setTimeout(() => {
    if (announced || stopping) return;
    say(
      `bosun: the cluster did not become ready within ${READY_TIMEOUT_MS / 1000} s; see the logs in ${logDir}`,
    );
    void stopAll(1);
  }, READY_TIMEOUT_MS).unref();
}
