/**
 * Per-client limit on failed logins (issue 14, finding 6): after `limit` failed password checks
 * from one client address within `windowMs`, further password attempts from it are refused with
 * 429 `too_many_requests` and `Retry-After` until the window ends, before any password work.
 *
 * Why not @fastify/rate-limit: it counts requests, and a request's outcome is known only after the
 * password check it is meant to spare. Counting failures keeps legitimate clients, which send Basic
 * credentials on every request, far from the limit. Per node and in memory: a flood spread over
 * nodes is still bounded on each by this and by the password gate, and by the cluster-wide lockout
 * for each account.
 */
import { BosunError } from '../../errors/catalogue.js';

export interface ClientLimiterOptions {
  /** Failures allowed per window; 0 turns the limit off. (Default: 30) */
  readonly limit?: number;
  /** (Default: 60000) */
  readonly windowMs?: number;
  /** How many clients to remember at most. (Default: 100000) */
  readonly maxClients?: number;
}

interface Window {
  start: number;
  failures: number;
}

export class ClientLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #maxClients: number;
  readonly #clients = new Map<string, Window>();

  constructor(options: ClientLimiterOptions = {}) {
    this.limit = options.limit ?? 30;
    this.windowMs = options.windowMs ?? 60_000;
    this.#maxClients = options.maxClients ?? 100_000;
  }

  /** Throws 429 when `client` used up its failures in the current window. */
  check(client: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const w = this.#clients.get(client);
    if (!w || now - w.start >= this.windowMs || w.failures < this.limit) return;
    const err = new BosunError(
      'too_many_requests',
      `Too many failed logins from this client; retry in ${Math.ceil((w.start + this.windowMs - now) / 1000)} s.`,
    );
    err.retryAfterSeconds = Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
    throw err;
  }

  fail(client: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const w = this.#clients.get(client);
    if (w && now - w.start < this.windowMs) {
      w.failures++;
      return;
    }
    if (this.#clients.size >= this.#maxClients) this.#sweep(now);
    this.#clients.set(client, { start: now, failures: 1 });
  }

  #sweep(now: number): void {
    for (const [client, w] of this.#clients) {
      if (now - w.start >= this.windowMs) this.#clients.delete(client);
    }
    // Still full (a flood from very many addresses): forget the oldest half rather than grow.
    if (this.#clients.size >= this.#maxClients) {
      let drop = this.#clients.size / 2;
      for (const client of this.#clients.keys()) {
        if (drop-- <= 0) break;
        this.#clients.delete(client);
      }
    }
  }
}
