/** `bosun node`: runs one node process in the foreground until SIGINT/SIGTERM. */
import { resolve } from 'node:path';

import type { AuthenticatorOptions } from '../api/auth/authenticator.js';
import type { FastFailoverMode } from '../cluster/failure-detector.js';
import { createLogger } from '../log.js';
import { BosunNode, type NodeOptions } from '../node/node.js';
import type { NodeMessage } from '../node/node-message.js';
import { takeSecretFromEnv } from '../node/secret-env.js';

export interface NodeCommandOptions {
  uid: number;
  dataDir: string;
  store?: string | undefined;
  prefix?: string | undefined;
  host: string;
  advertiseAddr?: string | undefined;
  httpPort?: number | undefined;
  httpsPort?: number | undefined;
  leaseTtl?: number | undefined;
  handoverTimeout?: number | undefined;
  metricsAuth?: boolean | undefined;
  /** false with --no-metrics. */
  metrics?: boolean | undefined;
  eventLogRetention?: number | undefined;
  retainRuns?: number | undefined;
  /** Seconds. */
  retainRunsAge?: number | undefined;
  retentionSweep?: number | undefined;
  /** Seconds. */
  idempotencyTtl?: number | undefined;
  fastFailover?: FastFailoverMode | undefined;
  headersTimeout?: number | undefined;
  requestTimeout?: number | undefined;
  keepAliveTimeout?: number | undefined;
  idleTimeout?: number | undefined;
  maxConnections?: number | undefined;
}

/** BOSUN_METRICS_AUTH: `1`/`true`/`yes` turn authentication on for /metrics; anything else leaves it off. */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/**
 * `BOSUN_LOGIN_FAILURE_LIMIT`: failed logins allowed per client address per minute (default 30;
 * 0 turns the per-client limit off, for benchmarks that simulate many clients from one address).
 */
function authOptionsFromEnv(env: NodeJS.ProcessEnv): AuthenticatorOptions | undefined {
  const raw = env.BOSUN_LOGIN_FAILURE_LIMIT;
  if (raw === undefined || raw === '') return undefined;
  const limit = Number(raw);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new Error(`BOSUN_LOGIN_FAILURE_LIMIT must be a whole number >= 0, not ${raw}`);
  }
  return { clientLimit: { limit } };
}

export async function runNode(opts: NodeCommandOptions): Promise<void> {
  // Everything this process creates (the SQLite file and its -wal/-shm, logs, TLS key) is for its
  // own user only (issue 14, finding 5); node/data-dir.ts also tightens what already exists.
  process.umask(0o077);
  const adminPassword = takeSecretFromEnv(process.env, 'BOSUN_ADMIN_PASSWORD');
  const log = createLogger({ node: opts.uid });
  const node = new BosunNode(nodeOptions(opts, adminPassword, log));
  stopOnSignals(node, log);
  node.on('master', (masterUid, epoch) => send({ type: 'master', uid: opts.uid, masterUid, epoch }));
  try {
    await node.start();
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    // Delivered before the process exits: the launcher prints it on its terminal.
    await new Promise<void>((done) => {
      if (process.send && process.connected)
        process.send({ type: 'failed', uid: opts.uid, reason } satisfies NodeMessage, () => done());
      else done();
    });
    throw err;
  }
  const admin = node.bootstrap.createdAdmin;
  if (admin) {
    send({ type: 'admin', ...admin });
    if (admin.generated && !process.send) {
      process.stderr.write(
        `bosun: created admin ${admin.email} with generated password: ${admin.password}\n`,
      );
    }
  }
  const addr = node.httpAddress();
  send({
    type: 'ready',
    uid: opts.uid,
    httpPort: addr?.port ?? opts.httpPort ?? 0,
    httpsPort: opts.httpsPort ?? 9443 + opts.uid - 1,
    fingerprint: node.certificateFingerprint,
  });
}

/** To the launcher, when this process has one (node/node-message.ts). */
function send(msg: NodeMessage): void {
  if (process.send && process.connected) process.send(msg);
}

/** The node's options from the command line, with the environment's settings. */
function nodeOptions(
  opts: NodeCommandOptions,
  adminPassword: string | undefined,
  log: ReturnType<typeof createLogger>,
): NodeOptions {
  return {
    uid: opts.uid,
    dataDir: resolve(opts.dataDir),
    store: opts.store ?? process.env.BOSUN_STORE,
    prefix: opts.prefix,
    host: opts.host,
    advertiseAddr: opts.advertiseAddr,
    httpPort: opts.httpPort ?? 8080 + opts.uid - 1,
    httpsPort: opts.httpsPort ?? 9443 + opts.uid - 1,
    leaseTtlMs: opts.leaseTtl,
    handoverTimeoutMs: opts.handoverTimeout,
    metricsAuth: opts.metricsAuth === true || envFlag(process.env.BOSUN_METRICS_AUTH),
    // BOSUN_METRICS=0 (or false, no, off) is --no-metrics, for benchmarks that compare with and without.
    eventRetention: opts.eventLogRetention,
    retention: {
      maxRuns: opts.retainRuns,
      maxAgeMs: opts.retainRunsAge === undefined ? undefined : opts.retainRunsAge * 1000,
      sweepEveryMs: opts.retentionSweep,
    },
    idempotencyTtlMs: opts.idempotencyTtl === undefined ? undefined : opts.idempotencyTtl * 1000,
    metrics: opts.metrics !== false && !/^(0|false|no|off)$/i.test(process.env.BOSUN_METRICS?.trim() ?? ''),
    fastFailover: opts.fastFailover,
    listenerLimits: {
      headersTimeoutMs: opts.headersTimeout,
      requestTimeoutMs: opts.requestTimeout,
      keepAliveTimeoutMs: opts.keepAliveTimeout,
      idleTimeoutMs: opts.idleTimeout,
      maxConnections: opts.maxConnections,
    },
    adminEmail: process.env.BOSUN_ADMIN_EMAIL ?? 'admin@bosun.local',
    adminPassword,
    log,
    auth: authOptionsFromEnv(process.env),
  };
}

/** SIGINT/SIGTERM (or the launcher going away) drain the node; a second signal exits at once. */
function stopOnSignals(node: BosunNode, log: ReturnType<typeof createLogger>): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn(`second ${signal}: exiting without draining`);
      process.exit(1);
    }
    log.info(`${signal}: draining (send it again to exit at once)`);
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The launcher going away (Ctrl-C in its terminal, or a crash) stops its nodes too.
  process.on('disconnect', () => onSignal('SIGTERM'));
}
