/**
 * Publishes this node's OS sample under `node-stats/<uid>`, bound to its membership lease, so any
 * node can answer `/v1/nodes/stats` for every live node from its own view (docs/decisions.md, "Node
 * stats across machines"). A dead node's sample disappears with its lease.
 */
import type { Logger } from 'pino';

import type { ClusterKeys } from '../cluster/keys.js';
import type { Membership } from '../cluster/membership.js';
import { putRecord } from '../store/typed-key.js';
import type { Store } from '../store/types.js';
import type { OsSampler } from './os-sampler.js';

/** The first sample covers one second, so a fresh node has figures at once; then every ten. */
export const firstSampleMs = 1000;
export const sampleEveryMs = 10_000;

export class StatsPublisher {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly store: Store,
    private readonly keys: ClusterKeys,
    private readonly membership: Membership,
    private readonly sampler: OsSampler,
    private readonly uid: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#schedule(firstSampleMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#publish(), ms);
    this.#timer.unref();
  }

  async #publish(): Promise<void> {
    try {
      const sample = await this.sampler.sample();
      const lease = this.membership.lease;
      // Without a lease the node is rejoining; the next tick publishes under the new one.
      if (lease && !this.#stopped) {
        await this.store.txn({
          compare: [],
          success: [putRecord(this.keys.nodeStats(this.uid), sample, lease.id)],
        });
      }
    } catch (err) {
      // Stats are best effort: a store outage is reported by everything else already.
      this.log.debug({ err }, 'could not publish node stats');
    }
    this.#schedule(sampleEveryMs);
  }
}
