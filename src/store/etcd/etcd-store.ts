/**
 * The distributed backend: etcd 3.4+ through the `etcd3` client, guarding against the pitfalls listed
 * in docs/design.md, "etcd client pitfalls".
 *
 * - Deadlines. Every unary call has one (2 s by default): without it a call routed to a hung member
 *   waits as long as the member hangs, and a write during a raft leader change waits ~7 s.
 * - Dead connections. gRPC keep-alive pings (1 s) detect a hung member under a stream, which has no
 *   deadline. The server needs `--grpc-keepalive-min-time=1s` or it answers GOAWAY "too many pings".
 * - Retries. etcd3's global retry is replaced (policies.ts): reads retry on any transient failure, a
 *   transaction only when it certainly never reached raft. Otherwise it fails with
 *   TxnOutcomeUnknownError and the caller re-reads.
 * - Transactions are built as raw requests, never through etcd3's builder, whose ComparatorBuilder
 *   has a `.then` (the THEN branch): an `await` on a builder without `.commit()` hangs forever.
 * - Leases and watches are this backend's own (etcd-lease.ts, etcd-watch.ts): etcd3's report a lost
 *   lease late and can resume a broken watch past undelivered history.
 * - A transaction without operations gets a linearizable range added: etcd would otherwise answer it
 *   from whichever member received it, possibly a lagging one.
 * - Revisions travel as int64 strings; they are parsed into numbers (exact up to 2^53).
 *
 * A namespace, when given, is prepended to every key and stripped from every result, so one etcd can
 * hold several clusters.
 */
import { rootCertificates } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';

import { CompareResult, CompareTarget, Etcd3, type ICompare, type IKeyValue, type IRequestOp } from 'etcd3';

import { LeaseLostError, StoreClosedError } from '../errors.js';
import { toKv } from '../key-value.js';
import { validateTxn } from '../validate.js';
import type {
  Compare,
  KeyValue,
  Lease,
  Op,
  RangeResult,
  Store,
  StoreProfile,
  TxnRequest,
  TxnResult,
  WatchHandlers,
  Watcher,
} from '../types.js';
import { castError, notSent, transient } from './cast-error.js';
import { EtcdLease, type EtcdLeaseHost } from './etcd-lease.js';
import { EtcdWatch } from './etcd-watch.js';
import { KeepAliveChannel, type KeepAliveResult } from './keepalive-channel.js';
import { hostBreaker, passThroughPolicy } from './policies.js';

export interface EtcdStoreOptions {
  /** Members' client endpoints: `host:port` or `http://host:port`. */
  readonly endpoints: readonly string[];
  /** Prepended to every key and stripped from results, e.g. `/bosun/prod`. (Default: none) */
  readonly namespace?: string;
  /** The deadline of each unary call, in ms. (Default: 2000) */
  readonly callTimeoutMs?: number;
  /**
   * gRPC keep-alive ping interval and timeout, in ms; 0 turns pings off. The members need
   * `--grpc-keepalive-min-time` at or below it. (Default: 1000)
   */
  readonly grpcKeepAliveMs?: number;
  /**
   * The smallest lease TTL the members honour: 1.5 × their election timeout, rounded up to whole
   * seconds. etcd silently raises smaller TTLs; Lease.ttlMs always reports the granted one.
   * (Default: 2000, for etcd's default 1000 ms election timeout)
   */
  readonly minLeaseTtlMs?: number;
  /** TLS to the members (their client URLs are https): PEM contents. */
  readonly tls?: EtcdTlsOptions;
  /** etcd's own authentication (`etcdctl auth enable`). */
  readonly auth?: { readonly username: string; readonly password: string };
}

export interface EtcdTlsOptions {
  /** The CA that signed the members' certificates; the system's roots when absent. */
  readonly ca?: Buffer;
  /** A client certificate and its key, for members started with `--client-cert-auth`. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

const MAX_ATTEMPTS = 5;

const COMPARE_TARGET: Record<Compare['target'], { target: CompareTarget; field: keyof ICompare }> = {
  value: { target: CompareTarget.Value, field: 'value' },
  mod: { target: CompareTarget.Mod, field: 'mod_revision' },
  create: { target: CompareTarget.Create, field: 'create_revision' },
  version: { target: CompareTarget.Version, field: 'version' },
};

const COMPARE_RESULT: Record<Compare['op'], CompareResult> = {
  '=': CompareResult.Equal,
  '!=': CompareResult.NotEqual,
  '<': CompareResult.Less,
  '>': CompareResult.Greater,
};

/** etcd's range end for "every key starting with `prefix`" (bytes, not UTF-16 units). */
function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): to the end of the key space.
  return Buffer.from([0]);
}

export class EtcdStore implements Store, EtcdLeaseHost {
  readonly profile: StoreProfile;
  readonly callTimeoutMs: number;
  readonly #client: Etcd3;
  readonly #namespace: Buffer;
  readonly #keepAlives: KeepAliveChannel;
  readonly #leases = new Set<EtcdLease>();
  readonly #watches = new Set<EtcdWatch>();
  #closed = false;

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error('an etcd store needs at least one endpoint');
    this.callTimeoutMs = options.callTimeoutMs ?? 2000;
    const keepAliveMs = options.grpcKeepAliveMs ?? 1000;
    this.#namespace = Buffer.from(options.namespace ?? '', 'utf8');
    this.profile = {
      name: 'etcd',
      kind: 'distributed',
      minLeaseTtlMs: options.minLeaseTtlMs ?? 2000,
    };
    const scheme = options.tls ? 'https' : 'http';
    this.#client = new Etcd3({
      hosts: options.endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `${scheme}://${e}`)),
      ...(options.tls
        ? {
            credentials: {
              // grpc-js wants an explicit root; with none given, trust the system's CAs.
              rootCertificate: options.tls.ca ?? Buffer.from(rootCertificates.join('\n')),
              ...(options.tls.key ? { privateKey: options.tls.key } : {}),
              ...(options.tls.cert ? { certChain: options.tls.cert } : {}),
            },
          }
        : {}),
      ...(options.auth ? { auth: { username: options.auth.username, password: options.auth.password } } : {}),
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.callTimeoutMs }),
      grpcOptions: {
        ...(keepAliveMs > 0
          ? {
              'grpc.keepalive_time_ms': keepAliveMs,
              'grpc.keepalive_timeout_ms': keepAliveMs,
              // Only while a call or stream is open: etcd counts a ping on a connection without streams
              // as abuse (grpc-go's 2-hour rule) and closes it with GOAWAY "too_many_pings" after
              // three. Idle connections need no pings; unary calls have deadlines.
              'grpc.keepalive_permit_without_calls': 0,
            }
          : {}),
        // gRPC's reconnect backoff grows to 120 s by default: a member back after an outage would stay
        // unused for that long. Recovery should follow the store within a second.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        // A range over a busy cluster's prefix can outgrow gRPC's 4 MB default.
        'grpc.max_receive_message_length': 256 * 1024 * 1024,
      },
      faultHandling: { global: passThroughPolicy, host: (host) => hostBreaker(host) },
    });
    this.#keepAlives = new KeepAliveChannel(this.#client.leaseClient);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.#call('get', false, () => this.#client.kv.range({ key: this.#key(key) }));
    const kv = res.kvs[0];
    return kv ? this.#toKv(kv) : undefined;
  }

  async range(prefix: string): Promise<RangeResult> {
    const key = this.#key(prefix);
    const res = await this.#call('range', false, () =>
      this.#client.kv.range({ key: key.length > 0 ? key : Buffer.from([0]), range_end: prefixRangeEnd(key) }),
    );
    return { kvs: res.kvs.map((kv) => this.#toKv(kv)), revision: Number(res.header.revision) };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.#assertOpen();
    validateTxn(request);
    const success = request.success.map((op) => this.#op(op));
    const failure = (request.failure ?? []).map((op) => this.#op(op));
    if (success.length === 0 && failure.length === 0) {
      // etcd treats a transaction without operations as a serializable read: the member that gets it
      // answers from its own state, and a lagging follower compares against the past (seen: a compare
      // missing a write acknowledged just before). A linearizable range in the branch makes etcd
      // confirm with the leader first (ReadIndex); count_only keeps the answer tiny.
      success.push({ request_range: { key: this.#key(request.compare[0]?.key ?? '/'), count_only: true } });
    }
    const req = { compare: request.compare.map((c) => this.#compare(c)), success, failure };
    const res = await this.#call('txn', true, () => this.#client.kv.txn(req));
    return { succeeded: res.succeeded, revision: Number(res.header.revision) };
  }

  async grantLease(ttlMs: number): Promise<Lease> {
    const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
    let grantedAt = 0;
    // A grant repeated after an unclear failure at worst leaves an unused lease to expire: safe.
    const res = await this.#call('grant lease', false, () => {
      grantedAt = Date.now();
      return this.#client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 });
    });
    const lease = new EtcdLease(this, res.ID, Number(res.TTL) * 1000, grantedAt);
    this.#leases.add(lease);
    return lease;
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.#assertOpen();
    const key = this.#key(prefix);
    const nsLength = this.#namespace.length;
    const watch = new EtcdWatch(
      this.#client.watchClient,
      {
        key: key.length > 0 ? key : Buffer.from([0]),
        rangeEnd: prefixRangeEnd(key),
        unprefix: (k) => k.subarray(nsLength).toString('utf8'),
      },
      fromRevision,
      handlers,
      (w) => this.#watches.delete(w),
    );
    this.#watches.add(watch);
    return watch;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const lease of this.#leases) lease.release();
    this.#leases.clear();
    await Promise.all([...this.#watches].map((w) => w.close()));
    this.#keepAlives.close();
    this.#client.close();
  }

  // ---- EtcdLeaseHost ----

  keepAlive(id: string, timeoutMs: number): Promise<KeepAliveResult> {
    return this.#keepAlives.keepAlive(id, timeoutMs);
  }

  async revokeLease(id: string): Promise<void> {
    try {
      await this.#call('revoke lease', false, () => this.#client.leaseClient.leaseRevoke({ ID: id }));
    } catch (err) {
      // Already gone (expired, or revoked by a retried attempt): the goal is reached.
      if (!(err instanceof LeaseLostError)) throw err;
    }
  }

  forgetLease(lease: EtcdLease): void {
    this.#leases.delete(lease);
  }

  // ---- internals ----

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError('store is closed');
  }

  /**
   * Runs `fn`, retrying with a short backoff what is safe to retry: anything that never reached etcd,
   * and for reads and lease calls (`write` false) any transient failure.
   */
  async #call<T>(what: string, write: boolean, fn: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    // Fast failures (a refused connection) may be retried several times; slow ones (deadlines) about
    // once, so a call gives up after roughly two deadlines, not five.
    const retryUntil = Date.now() + this.callTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.#closed) throw new StoreClosedError(`${what}: store is closed`, { cause: err });
        const retry = write ? notSent(err) : transient(err);
        if (!retry || attempt >= MAX_ATTEMPTS || Date.now() > retryUntil) throw castError(err, what, write);
        await delay(Math.min(20 * 2 ** attempt, 300));
        this.#assertOpen();
      }
    }
  }

  #key(key: string): Buffer {
    const k = Buffer.from(key, 'utf8');
    return this.#namespace.length > 0 ? Buffer.concat([this.#namespace, k]) : k;
  }

  #toKv(kv: IKeyValue): KeyValue {
    const key = kv.key.subarray(this.#namespace.length).toString('utf8');
    return toKv(key, kv.value.toString('utf8'), kv.create_revision, kv.mod_revision, kv.version, kv.lease);
  }

  #compare(c: Compare): ICompare {
    const { target, field } = COMPARE_TARGET[c.target];
    const value = c.target === 'value' ? Buffer.from(String(c.value), 'utf8') : c.value;
    return { key: this.#key(c.key), target, result: COMPARE_RESULT[c.op], [field]: value };
  }

  #op(op: Op): IRequestOp {
    if (op.type === 'delete') return { request_delete_range: { key: this.#key(op.key) } };
    return {
      request_put: { key: this.#key(op.key), value: Buffer.from(op.value, 'utf8'), lease: op.lease ?? 0 },
    };
  }
}
