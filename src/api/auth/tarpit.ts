/**
 * Slow refusals for floods (issue 14, finding 7). A refusal that costs the node nothing still costs
 * it an HTTP round trip, and a flooding client answered at once simply asks again: 50 connections
 * refused in microseconds become thousands of requests a second that the event loop must parse and
 * answer, and that crowd out everyone else. So load refusals (503 `server_busy`, 429
 * `too_many_requests`) are sent after `delayMs`, which slows each flooding connection to about one
 * request per delay. Holding a refusal costs one timer; at most `maxHeld` are held, beyond which
 * they go at once, so a flood of very many connections cannot make the node hold without bound.
 */
export interface TarpitOptions {
  /** (Default: 1000, the Retry-After the refusals carry) */
  readonly delayMs?: number;
  /** (Default: 1000) */
  readonly maxHeld?: number;
}

export class Tarpit {
  readonly delayMs: number;
  readonly maxHeld: number;
  #held = 0;

  constructor(options: TarpitOptions = {}) {
    this.delayMs = options.delayMs ?? 1000;
    this.maxHeld = options.maxHeld ?? 1000;
  }

  async hold(): Promise<void> {
    if (this.delayMs <= 0 || this.#held >= this.maxHeld) return;
    this.#held++;
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    } finally {
      this.#held--;
    }
  }
}
