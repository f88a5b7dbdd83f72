import { EventEmitter } from 'node:events';

import { LeaseLostError } from './errors.js';
import type { Lease, LeaseEvents } from './types.js';

/**
 * The bookkeeping every backend's lease shares: the local safety deadline, the one-shot `lost`
 * event and the keep-alive timer. A backend supplies `sendKeepAlive` and `sendRevoke`.
 */
export abstract class BaseLease extends EventEmitter implements Lease {
  #safeUntil: number;
  #lost = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

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
        (alive) => {
          if (this.#stopped) return;
          if (alive) {
            this.#safeUntil = Math.max(this.#safeUntil, sentAt + this.ttlMs);
            this.emit('renewed', this.#safeUntil, Date.now() - sentAt);
          } else {
            this.markLost(new LeaseLostError(`lease ${this.id} expired on the server`));
            return;
          }
          this.#timer = setTimeout(tick, period);
        },
        (err: unknown) => {
          // A failed round trip is not a lost lease: the lease lives until safeUntil. Retry sooner.
          if (this.#stopped) return;
          this.emit('missed', err);
          if (Date.now() > this.#safeUntil) {
            this.markLost(new LeaseLostError(`lease ${this.id} could not be renewed before its TTL ran out`));
            return;
          }
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

  /** Resolves true when the server renewed the lease, false when it no longer exists. */
  protected abstract sendKeepAlive(): Promise<boolean>;
  protected abstract sendRevoke(): Promise<void>;

  override on<E extends keyof LeaseEvents>(event: E, listener: LeaseEvents[E]): this {
    return super.on(event, listener);
  }

  override off<E extends keyof LeaseEvents>(event: E, listener: LeaseEvents[E]): this {
    return super.off(event, listener);
  }
}
