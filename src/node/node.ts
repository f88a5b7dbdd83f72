/**
 * One Bosun node process: the store, the watch-fed view, membership, the master role, the action
 * engine and the API on HTTP and HTTPS, wired in dependency order and stopped in reverse.
 */
import { EventEmitter } from 'node:events';
import type { Server as HttpsServer } from 'node:https';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import { ActionEngine, defaultEngineSettings } from '../actions/engine.js';
import { DEFAULT_IDEMPOTENCY_TTL_MS, IdempotentSubmitter } from '../actions/idempotency.js';
import { Preflight } from '../actions/preflight.js';
import { defaultRetention, type RetentionSettings } from '../actions/retention.js';
import { clusterActionHandlers, type HandlerRegistry } from '../actions/registry.js';
import { ActionSubmitter } from '../actions/submit.js';
import { Authenticator, type AuthenticatorOptions } from '../api/auth/authenticator.js';
import { TokenService } from '../api/auth/tokens.js';
import { defaultListenerLimits, type ListenerLimits } from '../api/limits.js';
import { recordLockout } from '../api/audit.js';
import { buildServer } from '../api/server.js';
import { defaultEventRetention, EventLog } from '../cluster/event-log.js';
import {
  defaultFailureDetectorSettings,
  FailureDetector,
  type FastFailoverMode,
} from '../cluster/failure-detector.js';
import { ClusterKeys } from '../cluster/keys.js';
import { MasterRole, type MasterTerm } from '../cluster/master.js';
import { Membership } from '../cluster/membership.js';
import { hostId, startTicks } from '../cluster/process-identity.js';
import type { NodeRecord } from '../cluster/keys.js';
import { Freshness } from '../cluster/freshness.js';
import { ClusterState } from '../cluster/state.js';
import { ClusterView } from '../cluster/view.js';
import { InstrumentedStore } from '../metrics/instrumented-store.js';
import { BosunMetrics } from '../metrics/metrics.js';
import { StoreUnavailableError } from '../store/errors.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/types.js';
import { LoginLockout } from '../users/lockout.js';
import { UserDirectory } from '../users/user-directory.js';
import { version } from '../version.js';
import { bootstrapCluster, type BootstrapResult } from './bootstrap.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { securePrivateDir } from './data-dir.js';
import { EventRecorder } from './event-recorder.js';
import { createListeners, type ConnectionBudget } from './listeners.js';
import { OsSampler } from './os-sampler.js';
import { StatsPublisher } from './stats-publisher.js';
import { storeOptionsFromEnv } from './store-env.js';
import { loadOrCreateCertificate } from './tls.js';

export interface NodeOptions {
  readonly uid: number;
  /** Where this node keeps its certificate (and, for SQLite, where the shared store file lives). */
  readonly dataDir: string;
  /** `sqlite:<path>` or `etcd://host:port[,host:port...]`. (Default: sqlite:<dataDir>/bosun.db) */
  readonly store?: string | undefined;
  /** The cluster's key prefix in the store. (Default: /bosun/) */
  readonly prefix?: string | undefined;
  readonly host: string;
  /** The address other nodes and clients reach this node at. (Default: host, or 127.0.0.1) */
  readonly advertiseAddr?: string | undefined;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** (Default: 3000) */
  readonly leaseTtlMs?: number | undefined;
  /** (Default: 5000) */
  readonly handoverTimeoutMs?: number | undefined;
  /** Replace a master whose process is certainly gone before its lease runs out. (Default: 'on') */
  readonly fastFailover?: FastFailoverMode | undefined;
  readonly adminEmail: string;
  readonly adminPassword: string | undefined;
  readonly log: Logger;
  /** Password gate, failed-login limit and credential cache settings (api/auth/authenticator.ts). */
  readonly auth?: AuthenticatorOptions | undefined;
  /** The actions this node can run. (Default: the cluster actions, `change_master`) */
  readonly registry?: HandlerRegistry | undefined;
  /** Whether `GET /metrics` needs a user with `view_all_metrics`. (Default: false, public) */
  readonly metricsAuth?: boolean | undefined;
  /** Whether to keep metrics and serve `GET /metrics` at all. (Default: true) */
  readonly metrics?: boolean | undefined;
  /** How many finished runs `/v1/actions` keeps, and for how long (src/actions/retention.ts). */
  readonly retention?: Partial<RetentionSettings> | undefined;
  /** How long an Idempotency-Key holds, in ms. (Default: 24 hours) */
  readonly idempotencyTtlMs?: number | undefined;
  /** How many entries the cluster event log (`GET /v1/logs`) keeps. (Default: 10000) */
  readonly eventRetention?: number | undefined;
  /** Timeouts and the connection limit of the HTTP and HTTPS listeners. (Default: defaultListenerLimits) */
  readonly listenerLimits?: Partial<ListenerLimits> | undefined;
}

export interface NodeEvents {
  master: [masterUid: number | undefined, epoch: number | undefined];
}

export const defaultLeaseTtlMs = 3000;

/** Runs `fn`, retrying StoreUnavailableError with a backoff until `boundMs` has passed. */
async function retryTransient<T>(
  fn: () => Promise<T>,
  boundMs: number,
  onRetry: (err: unknown) => void,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) || Date.now() + wait > deadline) throw err;
      onRetry(err);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
export const defaultPrefix = '/bosun/';

export class BosunNode extends EventEmitter<NodeEvents> {
  #store: Store | undefined;
  #view: ClusterView | undefined;
  #membership: Membership | undefined;
  #stats: StatsPublisher | undefined;
  #master: MasterRole | undefined;
  #engine: ActionEngine | undefined;
  #detector: FailureDetector | undefined;
  #app: FastifyInstance | undefined;
  #https: HttpsServer | undefined;
  #budget: ConnectionBudget | undefined;
  #stopping: Promise<void> | undefined;
  #clusterMetrics: ClusterMetrics | undefined;
  #events: EventRecorder | undefined;
  #eventLog: EventLog | undefined;
  /** This node's Prometheus metrics (served at `/metrics`), unless the node runs without them. */
  readonly metrics: BosunMetrics | undefined;
  bootstrap: BootstrapResult = {};
  certificateFingerprint = '';

  constructor(readonly options: NodeOptions) {
    super();
    this.metrics = options.metrics === false ? undefined : new BosunMetrics();
  }

  /** The Fastify app, for in-process tests (`inject()`). */
  get app(): FastifyInstance {
    if (!this.#app) throw new Error('the node has not started');
    return this.#app;
  }

  get isMaster(): boolean {
    return this.#master?.isMaster ?? false;
  }

  async start(): Promise<void> {
    const o = this.options;
    const log = o.log;
    const keys = new ClusterKeys(o.prefix ?? defaultPrefix);
    await securePrivateDir(o.dataDir);
    const opened = await openStore(
      o.store ?? `sqlite:${join(o.dataDir, 'bosun.db')}`,
      storeOptionsFromEnv(process.env),
    );
    const metrics = this.metrics;
    const instrumented = metrics ? new InstrumentedStore(opened, metrics) : undefined;
    const store: Store = instrumented ?? opened;
    this.#store = store;
    // Every node bootstraps at start, perhaps while the store itself is still starting (a local etcd
    // electing its first leader): retry what is transient, within a bound. Each step is a
    // create-if-absent, so a retry after an unknown outcome is harmless.
    this.bootstrap = await retryTransient(
      () => bootstrapCluster(store, keys, { email: o.adminEmail, password: o.adminPassword }),
      30_000,
      (err) => log.warn({ err }, 'the store is not answering yet; retrying the cluster bootstrap'),
    );

    const view = new ClusterView(store, keys.prefix, log.child({ component: 'view' }));
    this.#view = view;
    await view.start();
    if (metrics) {
      this.#clusterMetrics = new ClusterMetrics(view, keys, o.uid, metrics, (revision) =>
        instrumented?.viewApplied(revision),
      );
      this.#clusterMetrics.start();
    }

    const eventLog = new EventLog(
      store,
      view,
      keys,
      o.uid,
      o.eventRetention ?? defaultEventRetention,
      (ok, err) => {
        metrics?.eventLogWrites.inc({ result: ok ? 'ok' : 'error' });
        if (!ok) log.warn({ err }, 'could not write to the cluster event log');
      },
    );
    this.#eventLog = eventLog;
    this.#events = new EventRecorder(view, keys, o.uid, eventLog);
    this.#events.start();

    const state = new ClusterState(view, keys, o.uid);
    const ttl = o.leaseTtlMs ?? defaultLeaseTtlMs;
    // A view more than half a TTL behind what the store reported is not served from. (Watch events
    // arrive within milliseconds; the slack is for a busy machine.)
    // Nor is it served from after two thirds of a TTL without a word from the store (freshness.ts).
    const freshness = new Freshness(
      view,
      Math.floor(ttl / 2),
      () => (late.membership ? late.membership.touch() : Promise.resolve(undefined)),
      Math.floor((2 * ttl) / 3),
    );
    view.on('interrupted', () => freshness.invalidate());
    const registry = o.registry ?? clusterActionHandlers();
    // Bound below, once the listeners know their ports; the API answers 503 until the node has joined.
    const late: { membership?: Membership; master?: MasterRole } = {};

    const users = new UserDirectory(store, view, keys);
    const tokens = new TokenService(() => {
      const secret = view.get(keys.jwtSecret)?.value;
      return secret ? Buffer.from(secret, 'base64') : undefined;
    });
    const tls = await loadOrCreateCertificate(join(o.dataDir, 'nodes', String(o.uid), 'tls'));
    this.certificateFingerprint = tls.fingerprint;

    let https: HttpsServer | undefined;
    const limits: ListenerLimits = { ...defaultListenerLimits, ...definedOnly(o.listenerLimits ?? {}) };
    const healthy = (): boolean => {
      const lease = late.membership?.lease;
      const now = Date.now();
      return lease !== undefined && now < lease.safeUntil && freshness.fresh(now);
    };
    const submitter = new ActionSubmitter(store, view, keys, state, registry);
    const idempotencyTtlMs = o.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    const app = await buildServer(
      {
        view,
        keys,
        state,
        submitter,
        preflight: new Preflight(store, view, keys, state, registry, healthy),
        idempotent: new IdempotentSubmitter(store, view, keys, submitter, idempotencyTtlMs),
        users,
        authenticator: new Authenticator(users, tokens, new LoginLockout(store, view, keys), {
          ...o.auth,
          onLockout: (login) => {
            metrics?.lockouts.inc();
            recordLockout(eventLog, login);
          },
        }),
        tokens,
        log: log.child({ component: 'api' }),
        selfUid: o.uid,
        metrics,
        metricsAuth: o.metricsAuth,
        events: eventLog,
        selfMasterStatus: () => late.master?.status ?? 'none',
        selfMasterSince: () => late.master?.claimSince,
        healthy,
      },
      {
        serverFactory: (handler) => {
          const listeners = createListeners(handler, tls, limits);
          https = listeners.https;
          this.#budget = listeners.budget;
          return listeners.http;
        },
      },
    );
    this.#app = app;
    this.#https = https;
    await app.listen({ port: o.httpPort, host: o.host });
    await new Promise<void>((resolve, reject) => {
      https!.once('error', reject);
      https!.listen(o.httpsPort, o.host, () => {
        https!.off('error', reject);
        resolve();
      });
    });
    const boundPort = (server: { address(): unknown } | undefined, fallback: number): number => {
      const addr = server?.address();
      return addr && typeof addr === 'object' && 'port' in addr ? Number(addr.port) : fallback;
    };

    const record: NodeRecord = {
      uid: o.uid,
      addr: o.advertiseAddr ?? (o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host),
      http_port: boundPort(app.server, o.httpPort),
      https_port: boundPort(https, o.httpsPort),
      software_version: version,
      hostname: hostname(),
      pid: process.pid,
      host_id: hostId(),
      proc_start: startTicks(),
      cores: cpus().length,
      total_memory: totalmem(),
      started_at: Date.now(),
    };
    const membership = new Membership(store, keys, record, ttl, log.child({ component: 'membership' }));
    this.#membership = late.membership = membership;
    membership.on('joined', (lease, revision) => {
      freshness.require(revision);
      // The join's own writes were the store's latest answer.
      freshness.heard(Date.now());
      lease.on('renewed', (_until, rev, resumed, rttMs) => {
        freshness.heard(Date.now() - rttMs);
        if (resumed) freshness.invalidate();
        else if (rev > 0) freshness.observe(rev);
      });
    });
    const master = new MasterRole(store, view, keys, membership, log.child({ component: 'master' }));
    this.#master = late.master = master;
    const engine = new ActionEngine(
      store,
      view,
      keys,
      state,
      master,
      registry,
      {
        ...defaultEngineSettings,
        handoverTimeoutMs: o.handoverTimeoutMs ?? defaultEngineSettings.handoverTimeoutMs,
        retention: { ...defaultRetention, ...definedOnly(o.retention ?? {}) },
      },
      log.child({ component: 'engine' }),
    );
    this.#engine = engine;

    const publishMaster = (): void => {
      const m = state.master();
      this.emit('master', m?.node_uid, m?.epoch);
    };
    let lastMaster: string | undefined;
    view.on('change', (events) => {
      if (!events.some((e) => e.kv.key === keys.master.key)) return;
      const m = view.get(keys.master.key)?.value;
      if (m === lastMaster) return;
      lastMaster = m;
      publishMaster();
    });
    master.on('elected', (term: MasterTerm) => log.info({ epoch: term.epoch }, 'acting as master'));

    const detector = new FailureDetector(
      store,
      view,
      keys,
      membership,
      master,
      { ...defaultFailureDetectorSettings, mode: o.fastFailover ?? defaultFailureDetectorSettings.mode },
      log.child({ component: 'failure-detector' }),
    );
    this.#detector = detector;

    await membership.join();
    const stats = new StatsPublisher(
      store,
      keys,
      membership,
      new OsSampler(o.uid, o.dataDir, record.started_at),
      o.uid,
      log.child({ component: 'stats' }),
    );
    this.#stats = stats;
    stats.start();
    master.start();
    engine.start();
    detector.start();
    log.info({ http: record.http_port, https: record.https_port, uid: o.uid }, `node ${o.uid} is serving`);
    publishMaster();
  }

  /** Drains: stops the engine, hands mastership back at once, leaves, closes listeners and the store. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const log = this.options.log;
    // Announced first, while this node is still a member: the master then logs no crash for it.
    if (this.#membership?.lease) await this.#events?.leaving();
    this.#detector?.stop();
    this.#engine?.stop();
    this.#stats?.stop();
    await this.#master?.resign();
    this.#master?.stop();
    await this.#membership?.leave();
    await Promise.allSettled([
      this.#app?.close(),
      new Promise<void>((resolve) => (this.#https ? this.#https.close(() => resolve()) : resolve())),
    ]);
    this.#https?.closeAllConnections();
    this.#clusterMetrics?.stop();
    this.#events?.stop();
    await this.#eventLog?.flush();
    await this.#view?.close();
    await this.#store?.close();
    log.info('node stopped');
  }

  /** The address the HTTP server is bound to (tests use port 0). */
  httpAddress(): { port: number } | undefined {
    const addr = this.#app?.server.address();
    return addr && typeof addr === 'object' ? { port: addr.port } : undefined;
  }

  /** The address the HTTPS server is bound to. */
  httpsAddress(): { port: number } | undefined {
    const addr = this.#https?.address();
    return addr && typeof addr === 'object' ? { port: addr.port } : undefined;
  }

  /** Open connections on both listeners, and how many were refused for the limit. */
  connections(): { open: number; refused: number } {
    return { open: this.#budget?.open ?? 0, refused: this.#budget?.refused ?? 0 };
  }
}

/** Drops keys whose value is undefined, so they do not override defaults in a spread. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
