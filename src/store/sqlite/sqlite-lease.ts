import { LeaseLostError } from '../errors.js';
import { BaseLease, type KeepAliveAnswer } from '../lease-base.js';

/** What a lease needs from its store; kept narrow, as EtcdLeaseHost is, so the store exposes no more. */
export interface SqliteLeaseHost {
  /** `alive` is false when the lease no longer exists (or has expired). */
  renewLease(id: string, ttlMs: number): { alive: boolean; revision: number };
  revokeLease(id: string): Promise<void>;
  forgetLease(id: string): void;
}

/** A lease in the shared file, kept alive by this process (lease-base.ts does the bookkeeping). */
export class SqliteLease extends BaseLease {
  readonly #host: SqliteLeaseHost;

  constructor(host: SqliteLeaseHost, id: string, ttlMs: number, grantedAt: number) {
    super(id, ttlMs, grantedAt);
    this.#host = host;
    this.startKeepAlive();
  }

  /** Called when a reap (by any process's write) removed this lease. */
  expired(): void {
    this.#host.forgetLease(this.id);
    this.markLost(new LeaseLostError(`lease ${this.id} expired`));
  }

  protected async sendKeepAlive(): Promise<KeepAliveAnswer> {
    const { alive, revision } = this.#host.renewLease(this.id, this.ttlMs);
    if (!alive) this.#host.forgetLease(this.id);
    return { alive, revision };
  }

  protected async sendRevoke(): Promise<void> {
    // Forgotten first: a revoke by its own holder is not a loss to report.
    this.#host.forgetLease(this.id);
    await this.#host.revokeLease(this.id);
  }
}
