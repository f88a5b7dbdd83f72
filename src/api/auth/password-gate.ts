/**
 * Bounds how many scrypt password checks run at once on this node (issue 14, finding 7).
 *
 * A check costs ~40 ms of CPU on libuv's thread pool. Unbounded, a flood of wrong passwords fills
 * the pool and every core, and everything else waits. So at most `maxActive` checks run (by default
 * half the cores, at least one: the event loop keeps a core), at most `maxQueued` wait, and the rest
 * are refused at once with 503 `server_busy` and `Retry-After`, costing nothing. Token checks and
 * cached credentials never pass through here (authenticator.ts).
 */
import { availableParallelism } from 'node:os';

import { BosunError } from '../../errors/catalogue.js';

export interface PasswordGateOptions {
  readonly maxActive?: number;
  readonly maxQueued?: number;
}

export class PasswordGate {
  readonly maxActive: number;
  readonly maxQueued: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  /** Checks refused since start, for tests and benchmarks. */
  shed = 0;

  constructor(options: PasswordGateOptions = {}) {
    this.maxActive = Math.max(1, options.maxActive ?? Math.floor(availableParallelism() / 2));
    this.maxQueued = Math.max(0, options.maxQueued ?? 4 * this.maxActive);
  }

  get active(): number {
    return this.#active;
  }

  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.#active >= this.maxActive) {
      if (this.#waiting.length >= this.maxQueued) {
        this.shed++;
        const err = new BosunError(
          'server_busy',
          'Too many password checks are in progress on this node; retry shortly, or use a token.',
        );
        err.retryAfterSeconds = 1;
        throw err;
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await check();
    } finally {
      // Hand the slot straight to the next waiter, so the count never dips and lets a newcomer jump in.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
