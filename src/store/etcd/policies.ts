/**
 * The fault-handling policies handed to etcd3, replacing its defaults (docs/design.md, "etcd client
 * pitfalls"):
 * - global: run each call once. The default retries writes that may already have been applied; the
 *   store retries by itself, and only what is safe to retry (cast-error.ts).
 * - per host: a circuit breaker, so calls stop going to a dead or hung member. The default stays open
 *   5 s, which keeps a restarted cluster unusable for 5 s (docs/design.md, "etcd client pitfalls",
 *   6); this one starts at 250 ms and doubles while the member keeps failing, up to 1 s: a member
 *   back after an outage is used again within a second (the chaos harness measures Bosun's share of
 *   a recovery, bench/chaos/).
 *
 * cockatiel's policy types are reached through etcd3's options, as cockatiel is etcd3's dependency,
 * not ours.
 */
import { isRecoverableError, type IOptions } from 'etcd3';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
type PolicyFn = Parameters<Policy['execute']>[0];

/** Thrown instead of calling a member whose breaker is open: the request was never sent. */
export class HostUnavailableError extends Error {}

const noEvent = (): { dispose(): void } => ({ dispose: () => undefined });
const neverAborted = new AbortController().signal;

function asPolicy(execute: (fn: PolicyFn) => Promise<unknown>): Policy {
  return { onSuccess: noEvent, onFailure: noEvent, execute } as unknown as Policy;
}

export const passThroughPolicy: Policy = asPolicy(async (fn) => fn({ signal: neverAborted }));

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. (Default: 3, as etcd3's) */
  readonly threshold?: number;
  /** How long the breaker first stays open, in ms; doubled on each reopening. (Default: 250) */
  readonly openMs?: number;
  /** The longest it stays open, in ms. (Default: 1000) */
  readonly maxOpenMs?: number;
}

export function hostBreaker(host: string, options: BreakerOptions = {}): Policy {
  const threshold = options.threshold ?? 3;
  const baseOpenMs = options.openMs ?? 250;
  const maxOpenMs = options.maxOpenMs ?? 1000;
  let failures = 0;
  let openUntil = 0;
  let openMs = baseOpenMs;
  return asPolicy(async (fn) => {
    const now = Date.now();
    if (now < openUntil)
      throw new HostUnavailableError(`etcd member ${host} is failing; not calling it for now`);
    // After an open spell, one more failure reopens at once (half-open).
    const halfOpen = openUntil !== 0;
    try {
      const result = await fn({ signal: neverAborted });
      failures = 0;
      openUntil = 0;
      openMs = baseOpenMs;
      return result;
    } catch (err) {
      if (err instanceof Error && isRecoverableError(err)) {
        failures++;
        if (halfOpen || failures >= threshold) {
          openUntil = Date.now() + openMs;
          openMs = Math.min(openMs * 2, maxOpenMs);
          failures = 0;
        }
      } else {
        // The member answered (a lease not found, a bad request): it is alive.
        failures = 0;
      }
      throw err;
    }
  });
}
