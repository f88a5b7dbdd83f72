/**
 * Whether this node's view is current enough to answer reads from (docs/design.md, "Reads").
 *
 * The view is fed by a watch, and a watch can fall behind without a word: its connection may stall
 * (a partition, a hung member) while the lease's keep-alives still get through on another one, or
 * come back after the node was cut off, replaying what it missed. Reads served meanwhile would be
 * stale: a run accepted seconds ago answered 404, a replaced master still named. So the node holds
 * two kinds of revision the view must reach, both learnt from the store itself:
 *
 * - a barrier, which must be reached before the node answers at all: the revision of its own
 *   registration when it (re)joins, and the revision of the first renewal after its lease was in
 *   doubt. Until then the node answers 503 (renewal → caught-up view → healthy, in that order);
 * - observations: the store's revision as each keep-alive answer reports it. The view must reach
 *   each within `allowanceMs`, or the node stops answering until it does.
 *
 * A barrier is always a revision of this node's own write under the cluster prefix (its registration,
 * or a `touch` of it after its lease was in doubt or its watch broke), so the view reaches it only by
 * applying every change before it: proof that nothing is missing. Observations are store-wide
 * revisions, which a quiet prefix never reaches by its own changes; there a watch progress report
 * counts (ClusterView.reportedRevision).
 *
 * Both kinds need the store to speak. A node cut off from it entirely hears nothing, so nothing
 * above ever fires, and its lease alone would keep it answering for up to a TTL after the cut. So
 * a third rule bounds the silence: the node answers only while its last store answer (a keep-alive
 * round trip) was sent at most `silenceMs` ago. Keep-alives go every third of a TTL and the node
 * sets the bound to two thirds of one: a healthy node keeps a third of a TTL of slack for a late
 * timer or a slow round trip on a busy machine, and a cut-off one stops answering reads within two
 * thirds of a TTL, not a whole one. (A 404 is never served from the view at all:
 * ClusterView.getConfirmed asks the store.)
 */
import { setTimeout as delay } from 'node:timers/promises';

import { backoff } from '../lib/retry.js';
import type { ClusterView } from './view.js';

export class Freshness {
  #barrier = 0;
  #observed: { revision: number; at: number }[] = [];
  #syncing: Promise<void> | undefined;
  /** A barrier is owed: set until a touch has landed and been required. */
  #owed = false;
  /** When the request behind the store's latest answer was sent (0: none yet). */
  #heardAt = 0;

  /**
   * @param touch writes this node's registration again and resolves with that write's revision, or
   *   undefined when the node is not registered (it will rejoin, which sets its own barrier).
   */
  constructor(
    private readonly view: ClusterView,
    private readonly allowanceMs: number,
    private readonly touch: () => Promise<number | undefined>,
    private readonly silenceMs = allowanceMs,
  ) {}

  /**
   * The view may have missed changes (the lease was in doubt, or the watch broke): answer nothing
   * until a fresh write of this node's own has come back through the watch.
   */
  invalidate(): void {
    this.#owed = true;
    this.#syncing ??= this.#sync().finally(() => (this.#syncing = undefined));
  }

  async #sync(): Promise<void> {
    // Loops while owed: an invalidation during a touch needs a touch of its own, after it.
    let failures = 0;
    while (this.#owed) {
      this.#owed = false;
      try {
        const revision = await this.touch();
        if (revision !== undefined) this.require(revision);
      } catch {
        this.#owed = true;
        await delay(backoff(failures++));
      }
    }
  }

  /** The view must apply `revision` (a write under the prefix) before this node answers again. */
  require(revision: number): void {
    this.#barrier = Math.max(this.#barrier, revision);
  }

  /** The store answered a request sent at `sentAt`. */
  heard(sentAt: number): void {
    this.#heardAt = Math.max(this.#heardAt, sentAt);
  }

  /** The store was at `revision` just now: the view must get there within the allowance. */
  observe(revision: number, now = Date.now()): void {
    if (revision <= this.view.reportedRevision) return;
    this.#observed.push({ revision, at: now });
    this.view.requestProgress();
  }

  /** Whether reads may be answered from the view now. */
  fresh(now = Date.now()): boolean {
    if (this.#owed || this.#syncing || !this.view.current || this.view.revision < this.#barrier) return false;
    if (now - this.#heardAt > this.silenceMs) return false;
    const reported = this.view.reportedRevision;
    if (this.#observed.length > 0) this.#observed = this.#observed.filter((o) => o.revision > reported);
    return this.#observed.every((o) => now - o.at <= this.allowanceMs);
  }
}
