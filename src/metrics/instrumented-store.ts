/**
 * A Store that records its calls in the node's metrics and passes them through unchanged: latency by
 * operation, errors by operation and kind, lease keep-alive round trips and misses, and the commit
 * time of this node's own writes, which the node turns into watch lag when its view applies them.
 *
 * Wrapping the store from outside keeps the store layer free of metrics (see metrics.ts).
 */
import type {
  KeyValue,
  Lease,
  RangeResult,
  Store,
  StoreProfile,
  TxnRequest,
  TxnResult,
  WatchHandlers,
  Watcher,
} from '../store/types.js';
import type { BosunMetrics } from './metrics.js';

/** How many of this node's recent write revisions to remember for watch lag. */
const PENDING_LIMIT = 1024;

export class InstrumentedStore implements Store {
  /** Revision → local time (ms, monotonic clock) its transaction returned. */
  readonly #committed = new Map<number, number>();

  constructor(
    private readonly inner: Store,
    private readonly metrics: BosunMetrics,
  ) {}

  get profile(): StoreProfile {
    return this.inner.profile;
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.#timed('get', () => this.inner.get(key));
  }

  range(prefix: string): Promise<RangeResult> {
    return this.#timed('range', () => this.inner.range(prefix));
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const result = await this.#timed('txn', () => this.inner.txn(request));
    if (result.succeeded && request.success.length > 0) {
      if (this.#committed.size >= PENDING_LIMIT) this.#committed.delete(this.#committed.keys().next().value!);
      this.#committed.set(result.revision, performance.now());
    }
    return result;
  }

  async grantLease(ttlMs: number): Promise<Lease> {
    const lease = await this.#timed('grant_lease', () => this.inner.grantLease(ttlMs));
    lease.on('renewed', (_expires, _revision, _resumed, roundTripMs) =>
      this.metrics.leaseRenewal.observe(roundTripMs / 1000),
    );
    lease.on('missed', () => this.metrics.leaseRenewalMisses.inc());
    return lease;
  }

  revokeLease(id: string): Promise<void> {
    return this.#timed('revoke_lease', () => this.inner.revokeLease(id));
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    return this.inner.watch(prefix, fromRevision, handlers);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * Called when this node's view has applied `revision`: if this node wrote it, records the lag from
   * the commit to the view. Revisions written by other nodes carry no commit time this node can trust.
   */
  viewApplied(revision: number): void {
    const at = this.#committed.get(revision);
    if (at === undefined) return;
    this.#committed.delete(revision);
    this.metrics.watchLag.observe(Math.max(0, performance.now() - at) / 1000);
  }

  async #timed<T>(op: string, call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await call();
    } catch (err) {
      this.metrics.storeErrors.inc({ op, kind: err instanceof Error ? err.name : 'unknown' });
      throw err;
    } finally {
      this.metrics.storeOperation.observe({ op }, (performance.now() - start) / 1000);
    }
  }
}
