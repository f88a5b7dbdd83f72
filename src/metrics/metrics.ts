/**
 * The node's Prometheus metrics (prom-client), on a registry of its own so several nodes in one
 * process (tests) never share counters.
 *
 * This module sits at the bottom of the dependency graph: it imports nothing from the project. Lower
 * layers never see it; the node wires it to them from outside (an instrumented store, listeners on the
 * view and the lease), and the API layer records HTTP figures in a hook.
 *
 * Label cardinality is bounded by construction: labels are route patterns, methods, status codes,
 * action names from the handler registry, store operation names, error class names and fixed causes,
 * never emails, uids or action_uids.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Why a node became master. `fast_path` is an early take-over after a master's loss. */
export type MasterChangeCause = 'initial' | 'requested' | 'failover' | 'fast_path';

/** Seconds, from sub-millisecond store calls up to the hand-over timeout and beyond. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Action runs can take minutes. */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export interface MetricsOptions {
  /** Also export prom-client's process and Node.js runtime metrics. (Default: true) */
  readonly defaultMetrics?: boolean;
  /** Added to every series, such as `{node: "2"}`. */
  readonly labels?: Readonly<Record<string, string>>;
}

export class BosunMetrics {
  readonly registry = new Registry();

  readonly handoverDuration: Histogram;
  readonly noMasterWindow: Histogram;
  readonly runsFinished: Counter<'action' | 'status'>;
  readonly runDuration: Histogram<'action' | 'status'>;
  readonly masterChanges: Counter<'cause'>;
  readonly isMaster: Gauge;
  readonly masterEpoch: Gauge;
  readonly leaseRenewal: Histogram;
  readonly leaseRenewalMisses: Counter;
  readonly storeOperation: Histogram<'op'>;
  readonly storeErrors: Counter<'op' | 'kind'>;
  readonly watchLag: Histogram;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly sseStreams: Gauge;
  readonly loginFailures: Counter<'scheme'>;
  readonly lockouts: Counter;
  readonly eventLogWrites: Counter<'result'>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.labels) this.registry.setDefaultLabels({ ...options.labels });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.handoverDuration = new Histogram({
      name: 'bosun_handover_duration_seconds',
      help: 'change_master hand-overs this node completed as the new master: from the intent to the confirmation.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.noMasterWindow = new Histogram({
      name: 'bosun_no_master_window_seconds',
      help: 'change_master hand-overs this node completed: from the intent to the take-over, when no master started new work.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.runsFinished = new Counter({
      name: 'bosun_action_runs_total',
      help: 'Action runs that reached a final status while this node was master, by action and final status.',
      labelNames: ['action', 'status'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'bosun_action_run_duration_seconds',
      help: 'Action runs that reached a final status while this node was master: from submission to the final status.',
      labelNames: ['action', 'status'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.masterChanges = new Counter({
      name: 'bosun_master_changes_total',
      help: 'Terms this node began as master, by cause: initial (first master), requested (change_master), failover (election after a loss), fast_path (early take-over).',
      labelNames: ['cause'],
      registers,
    });
    this.isMaster = new Gauge({
      name: 'bosun_master',
      help: '1 while the cluster view names this node as master, else 0.',
      registers,
    });
    this.masterEpoch = new Gauge({
      name: 'bosun_master_epoch',
      help: "The current master's epoch as this node's view shows it (0 when there is no master).",
      registers,
    });
    this.leaseRenewal = new Histogram({
      name: 'bosun_lease_renewal_seconds',
      help: "Round-trip time of this node's successful lease keep-alives.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.leaseRenewalMisses = new Counter({
      name: 'bosun_lease_renewal_misses_total',
      help: 'Lease keep-alives that failed or went unanswered (the lease lives on until its safe deadline).',
      registers,
    });
    this.storeOperation = new Histogram({
      name: 'bosun_store_operation_seconds',
      help: 'Store calls made by this node, by operation (get, range, txn, grant_lease, revoke_lease).',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.storeErrors = new Counter({
      name: 'bosun_store_errors_total',
      help: 'Store calls that failed, by operation and error kind (the error class).',
      labelNames: ['op', 'kind'],
      registers,
    });
    this.watchLag = new Histogram({
      name: 'bosun_watch_lag_seconds',
      help: "Time from a store revision this node wrote being committed to this node's view applying it.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: 'bosun_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'bosun_http_request_duration_seconds',
      help: 'HTTP request handling time, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.sseStreams = new Gauge({
      name: 'bosun_sse_streams_open',
      help: 'Server-sent event streams open on this node.',
      registers,
    });
    this.loginFailures = new Counter({
      name: 'bosun_auth_failures_total',
      help: 'Requests with credentials that did not authenticate, by scheme (basic, jwt, other).',
      labelNames: ['scheme'],
      registers,
    });
    this.lockouts = new Counter({
      name: 'bosun_auth_lockouts_total',
      help: 'Accounts locked out after repeated failed logins.',
      registers,
    });
    this.eventLogWrites = new Counter({
      name: 'bosun_event_log_writes_total',
      help: 'Entries this node wrote to the cluster event log, by result (ok, error).',
      labelNames: ['result'],
      registers,
    });
    // Series that exist before their first event, so a scrape shows zeros rather than nothing.
    this.leaseRenewalMisses.inc(0);
    this.lockouts.inc(0);
    this.sseStreams.set(0);
    this.isMaster.set(0);
    this.masterEpoch.set(0);
    for (const cause of ['initial', 'requested', 'failover', 'fast_path'] as const)
      this.masterChanges.inc({ cause }, 0);
    for (const scheme of ['basic', 'jwt', 'other'] as const) this.loginFailures.inc({ scheme }, 0);
  }

  /** The text exposition format. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
