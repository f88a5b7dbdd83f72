/**
 * The one retry policy (docs/design.md, "Retries"): how many compare-and-swap attempts a
 * read-modify-write gets, and the backoff between attempts that failed on an unreachable store. Every
 * retry loop in the project takes its limits from here, so they are tuned in one place, as etcd3's
 * `stm.ts` keeps its retries in one place. Generic: imports nothing from the project.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryPolicy {
  /** Compare-and-swap attempts before a read-modify-write gives up as a conflict. */
  readonly attempts: number;
  /** The first wait after a failed attempt, in ms; each further wait doubles it. */
  readonly firstDelayMs: number;
  /** The longest wait between attempts, in ms. */
  readonly maxDelayMs: number;
}

export const retryPolicy: RetryPolicy = { attempts: 20, firstDelayMs: 50, maxDelayMs: 1000 };

/** The wait before retry `attempt` (0 for the first retry): doubling, capped. */
export function backoff(attempt: number, policy: RetryPolicy = retryPolicy): number {
  return Math.min(policy.firstDelayMs * 2 ** Math.min(attempt, 30), policy.maxDelayMs);
}

/**
 * Calls `fn` until it resolves, waiting `backoff` between failures. `retryIf` decides, per failure,
 * whether to try again (false rethrows the error).
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  retryIf: (err: unknown, attempt: number) => boolean,
  policy: RetryPolicy = retryPolicy,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retryIf(err, attempt)) throw err;
      await delay(backoff(attempt, policy));
    }
  }
}
