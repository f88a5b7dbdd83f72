import { EventEmitter } from 'node:events';

import { retry } from '../lib/retry.js';
import { LeaseLostError, StoreClosedError } from './errors.js';
import type { Lease, LeaseEvents } from './types.js';

/** What one keep-alive round trip learnt. */
export interface KeepAliveAnswer {
  /** False when the server no longer has the lease. */
  readonly alive: boolean;
  /** The store's revision when the server answered (0 when unknown). */
  readonly revision: number;
}

/**
 * The bookkeeping every backend's lease shares: the local safety deadline, the one-shot `lost`
 * event and the keep-alive timer. A backend supplies `sendKeepAlive` and `sendRevoke`.
 *
 * A lease whose keep-alives go unanswered past `safeUntil` is in doubt, not lost: etcd 3.4 gives
 * every lease a fresh TTL when its raft leader changes, so a lease can outlive a local deadline by a
 * whole election. Only the server's own answer ("no such lease") makes it lost; until then the
 * keep-alives go on, and `safeUntil` tells the layers above not to act on it meanwhile.
 */
export abstract class BaseLease extends EventEmitter implements Lease {
  #safeUntil: number;
  #lost = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #abandoned: Promise<void> | undefined;

  protected constructor(
    readonly id: string,
    readonly ttlMs: number,
    grantedAt: number,
  ) {
    super();
    this.#safeUntil = grantedAt + ttlMs;
  }

  get safeUntil(): number {
    return this.#lost ? 0 : this.#safeUntil;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Renews a third of the TTL at a time, as etcd's own clients do, so two renewals may fail before expiry. */
  protected startKeepAlive(): void {
    const period = Math.max(50, Math.floor(this.ttlMs / 3));
    const tick = (): void => {
      if (this.#stopped) return;
      const sentAt = Date.now();
      this.sendKeepAlive().then(
        ({ alive, revision }) => {
          if (this.#stopped) return;
          if (alive) {
            // Whether the lease was in doubt until this answer: the layers above then re-check
            // what they could not vouch for meanwhile (a view that may have missed changes).
            const resumed = Date.now() >= this.#safeUntil;
            this.#safeUntil = Math.max(this.#safeUntil, sentAt + this.ttlMs);
            this.emit('renewed', this.#safeUntil, revision, resumed, Date.now() - sentAt);
          } else {
            this.markLost(new LeaseLostError(`lease ${this.id} expired on the server`));
            return;
          }
          this.#timer = setTimeout(tick, period);
        },
        (err: unknown) => {
          // A failed round trip is not a lost lease, even past safeUntil (see above): retry sooner.
          if (this.#stopped) return;
          this.emit('missed', err);
          this.#timer = setTimeout(tick, Math.max(25, Math.floor(period / 4)));
        },
      );
    };
    this.#timer = setTimeout(tick, period);
  }

  protected markLost(err: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    this.stopTimer();
    this.emit('lost', err);
  }

  private stopTimer(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async revoke(): Promise<void> {
    this.stopTimer();
    if (this.#lost) return;
    await this.sendRevoke();
    this.#lost = true;
  }

  release(): void {
    this.stopTimer();
  }

  abandon(): Promise<void> {
    this.#abandoned ??= this.#abandon();
    return this.#abandoned;
  }

  async #abandon(): Promise<void> {
    this.stopTimer();
    if (this.#lost) return;
    this.#lost = true;
    // The revoke may reach the server even when its answer cannot come back (a one-way partition),
    // so keep sending it: the first that lands frees everything bound to the lease at once.
    await retry(
      () => this.sendRevoke(),
      (err) => !(err instanceof StoreClosedError),
    ).catch(() => undefined);
  }

  /** One keep-alive round trip; rejects when the server could not be reached. */
  protected abstract sendKeepAlive(): Promise<KeepAliveAnswer>;
  protected abstract sendRevoke(): Promise<void>;

  override on<E extends keyof LeaseEvents>(event: E, listener: LeaseEvents[E]): this {
    return super.on(event, listener);
  }

  override off<E extends keyof LeaseEvents>(event: E, listener: LeaseEvents[E]): this {
    return super.off(event, listener);
  }
}
