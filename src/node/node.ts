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
import { RunReadModel } from '../actions/run-read-model.js';
import { ActionSubmitter } from '../actions/submit.js';
import { Authenticator, type AuthenticatorOptions } from '../api/auth/authenticator.js';
import { TokenService } from '../api/auth/tokens.js';
import { defaultListenerLimits, type ListenerLimits } from '../api/limits.js';
import { recordLockout } from '../api/audit.js';
import { buildServer, type ApiDeps } from '../api/server.js';
import { createRenderer } from '../api/sse/render-events.js';
import { streamSettingsFromEnv } from '../api/sse/stream-hub.js';
import { defaultEventRetention, EventLog } from '../cluster/event-log.js';
import {
  defaultFailureDetectorSettings,
  FailureDetector,
  type FastFailoverMode,
} from '../cluster/failure-detector.js';
import { ChangeFeed } from '../cluster/change-feed.js';
import { ClusterReadModel } from '../cluster/cluster-read-model.js';
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

/** start()'s context after the store is open: what every later step builds on. */
interface Opened {
  readonly o: NodeOptions;
  readonly log: Logger;
  readonly keys: ClusterKeys;
  readonly store: Store;
  readonly instrumented: InstrumentedStore | undefined;
  readonly metrics: BosunMetrics | undefined;
}

/** ... and once the view is synced, with what reads it. */
interface Viewed extends Opened {
  readonly view: ClusterView;
  readonly eventLog: EventLog;
  readonly ttl: number;
  readonly freshness: Freshness;
  readonly state: ClusterState;
  readonly registry: HandlerRegistry;
}

/** ... and once the API listens: the liveness record names its ports. */
interface Serving extends Viewed {
  readonly record: NodeRecord;
}

function boundPort(server: { address(): unknown } | undefined, fallback: number): number {
  const addr = server?.address();
  return addr && typeof addr === 'object' && 'port' in addr ? Number(addr.port) : fallback;
}

function listenOn(server: HttpsServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export class BosunNode extends EventEmitter<NodeEvents> {
  #store: Store | undefined;
  #view: ClusterView | undefined;
  #membership: Membership | undefined;
  #stats: StatsPublisher | undefined;
  #master: MasterRole | undefined;
  #engine: ActionEngine | undefined;
  #detector: FailureDetector | undefined;
  #app: FastifyInstance | undefined;
  #feed: ChangeFeed | undefined;
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

  /**
   * Wires the node in the order its parts come to exist, each step taking what the earlier ones
   * built (one context object, grown step by step): the store, then the view and what reads it, then
   * the API (listening, so the node knows its ports), then membership, the master role and the
   * engine. The API answers 503 until the node has joined: it asks this node's membership and master
   * role, which exist from the last step on.
   */
  async start(): Promise<void> {
    const opened = await this.#openStore();
    const viewed = await this.#startView(opened);
    const serving = await this.#serveApi(viewed);
    await this.#joinCluster(serving);
  }

  async #openStore(): Promise<Opened> {
    const o = this.options;
    const log = o.log;
    const keys = new ClusterKeys(o.prefix ?? defaultPrefix);
    await securePrivateDir(o.dataDir);
    const raw = await openStore(
      o.store ?? `sqlite:${join(o.dataDir, 'bosun.db')}`,
      storeOptionsFromEnv(process.env),
    );
    const metrics = this.metrics;
    const instrumented = metrics ? new InstrumentedStore(raw, metrics) : undefined;
    const store: Store = instrumented ?? raw;
    this.#store = store;
    // Every node bootstraps at start, perhaps while the store itself is still starting (a local etcd
    // electing its first leader): retry what is transient, within a bound. Each step is a
    // create-if-absent, so a retry after an unknown outcome is harmless.
    this.bootstrap = await retryTransient(
      () => bootstrapCluster(store, keys, { email: o.adminEmail, password: o.adminPassword }),
      30_000,
      (err) => log.warn({ err }, 'the store is not answering yet; retrying the cluster bootstrap'),
    );
    return { o, log, keys, store, instrumented, metrics };
  }

  async #startView(ctx: Opened): Promise<Viewed> {
    const { o, log, keys, store, metrics } = ctx;
    const view = new ClusterView(store, keys.prefix, log.child({ component: 'view' }));
    this.#view = view;
    await view.start();
    if (metrics) {
      this.#clusterMetrics = new ClusterMetrics(view, keys, o.uid, metrics, (revision) =>
        ctx.instrumented?.viewApplied(revision),
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
    const ttl = o.leaseTtlMs ?? defaultLeaseTtlMs;
    // A view more than half a TTL behind what the store reported is not served from. (Watch events
    // arrive within milliseconds; the slack is for a busy machine.)
    // Nor is it served from after two thirds of a TTL without a word from the store (freshness.ts).
    const freshness = new Freshness(
      view,
      Math.floor(ttl / 2),
      () => (this.#membership ? this.#membership.touch() : Promise.resolve(undefined)),
      Math.floor((2 * ttl) / 3),
    );
    view.on('interrupted', () => freshness.invalidate());
    const state = new ClusterState(view, keys, o.uid);
    const registry = o.registry ?? clusterActionHandlers();
    return { ...ctx, view, eventLog, ttl, freshness, state, registry };
  }

  async #serveApi(ctx: Viewed): Promise<Serving> {
    const { o, log, keys, store, view, state, eventLog, metrics, freshness } = ctx;
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
      const lease = this.#membership?.lease;
      const now = Date.now();
      return lease !== undefined && now < lease.safeUntil && freshness.fresh(now);
    };
    const submitter = new ActionSubmitter({ store, view, keys, state, registry: ctx.registry });
    const idempotencyTtlMs = o.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    const deps: ApiDeps = {
      cluster: new ClusterReadModel(view, keys, state, o.uid, {
        status: () => this.#master?.status ?? 'none',
        since: () => this.#master?.claimSince,
      }),
      runs: new RunReadModel(view, keys),
      // Built here, not in the route: the node closes it after the API, before the view.
      feed: (this.#feed = changeFeed(view, keys, state)),
      submitter,
      preflight: new Preflight(store, view, keys, state, ctx.registry, healthy),
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
      metrics,
      metricsAuth: o.metricsAuth,
      events: eventLog,
      healthy,
    };
    const app = await buildServer(deps, {
      serverFactory: (handler) => {
        const listeners = createListeners(handler, tls, limits);
        https = listeners.https;
        this.#budget = listeners.budget;
        return listeners.http;
      },
    });
    this.#app = app;
    this.#https = https;
    await app.listen({ port: o.httpPort, host: o.host });
    await listenOn(https!, o.httpsPort, o.host);
    return {
      ...ctx,
      record: this.#nodeRecord(boundPort(app.server, o.httpPort), boundPort(https, o.httpsPort)),
    };
  }

  /** The liveness record this node publishes: where it listens, and what identifies its process. */
  #nodeRecord(httpPort: number, httpsPort: number): NodeRecord {
    const o = this.options;
    return {
      uid: o.uid,
      addr: o.advertiseAddr ?? (o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host),
      http_port: httpPort,
      https_port: httpsPort,
      software_version: version,
      hostname: hostname(),
      pid: process.pid,
      host_id: hostId(),
      proc_start: startTicks(),
      cores: cpus().length,
      total_memory: totalmem(),
      started_at: Date.now(),
    };
  }

  async #joinCluster(ctx: Serving): Promise<void> {
    const { o, log, keys, store, view, state, record, freshness } = ctx;
    const membership = new Membership(store, keys, record, ctx.ttl, log.child({ component: 'membership' }));
    this.#membership = membership;
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
    this.#master = master;
    const settings = {
      ...defaultEngineSettings,
      handoverTimeoutMs: o.handoverTimeoutMs ?? defaultEngineSettings.handoverTimeoutMs,
      retention: { ...defaultRetention, ...definedOnly(o.retention ?? {}) },
    };
    const engine = new ActionEngine({
      ...{ store, view, keys, state, master, registry: ctx.registry, settings },
      log: log.child({ component: 'engine' }),
    });
    this.#engine = engine;
    const publishMaster = this.#announceMasterChanges(view, keys, state);
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
    const sampler = new OsSampler(o.uid, o.dataDir, record.started_at);
    const stats = new StatsPublisher(
      store,
      keys,
      membership,
      sampler,
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

  /** Emits `master` whenever the master key names another node or term; returns the emitter. */
  #announceMasterChanges(view: ClusterView, keys: ClusterKeys, state: ClusterState): () => void {
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
    return publishMaster;
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
    this.#feed?.close();
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

/** The cluster's changes rendered as stream events, with the replay window the environment sets. */
function changeFeed(view: ClusterView, keys: ClusterKeys, state: ClusterState): ChangeFeed {
  return new ChangeFeed(view, createRenderer(view, keys, state), streamSettingsFromEnv().windowEvents);
}
