import { BaseLease, type KeepAliveAnswer } from '../lease-base.js';

/** What a lease needs from its store; kept narrow so the lease holds no client of its own. */
export interface EtcdLeaseHost {
  keepAlive(id: string, timeoutMs: number): Promise<{ ttlSeconds: number; revision: number }>;
  revokeLease(id: string): Promise<void>;
  forgetLease(lease: EtcdLease): void;
  readonly callTimeoutMs: number;
}

/**
 * An etcd lease kept alive by this process. It does not use etcd3's Lease: that one declares a lease
 * lost only after 2 × TTL without an answer (docs/design.md, "etcd client pitfalls", 7), and tracks
 * no safe deadline. Here `safeUntil` is the send time of the last acknowledged keep-alive plus the
 * TTL, which the server cannot beat.
 */
export class EtcdLease extends BaseLease {
  readonly #host: EtcdLeaseHost;

  constructor(host: EtcdLeaseHost, id: string, ttlMs: number, grantedAt: number) {
    super(id, ttlMs, grantedAt);
    this.#host = host;
    this.on('lost', () => host.forgetLease(this));
    this.startKeepAlive();
  }

  protected async sendKeepAlive(): Promise<KeepAliveAnswer> {
    // An answer later than a third of the TTL is worth less than a retry on a fresh stream.
    const timeoutMs = Math.min(this.#host.callTimeoutMs, Math.max(250, Math.floor(this.ttlMs / 3)));
    const { ttlSeconds, revision } = await this.#host.keepAlive(this.id, timeoutMs);
    return { alive: ttlSeconds > 0, revision };
  }

  protected async sendRevoke(): Promise<void> {
    this.#host.forgetLease(this);
    await this.#host.revokeLease(this.id);
  }
}
