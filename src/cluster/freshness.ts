/**
 * Whether this node's view is current enough to answer reads from (DESIGN.md, "Reads").
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
 * The view reaches a revision by applying a change at or past it, or by a watch progress report
 * saying nothing up to it is left (ClusterView.requestProgress).
 */
import type { ClusterView } from './view.js';

export class Freshness {
  #barrier = 0;
  #observed: { revision: number; at: number }[] = [];

  constructor(
    private readonly view: ClusterView,
    private readonly allowanceMs: number,
  ) {}

  /** The view must reach `revision` before this node answers again. */
  require(revision: number): void {
    this.#barrier = Math.max(this.#barrier, revision);
    if (this.view.revision < revision) this.view.requestProgress();
  }

  /** The store was at `revision` just now: the view must get there within the allowance. */
  observe(revision: number, now = Date.now()): void {
    if (revision <= this.view.revision) return;
    this.#observed.push({ revision, at: now });
    this.view.requestProgress();
  }

  debug(): unknown {
    return {
      barrier: this.#barrier,
      observed: this.#observed,
      view: this.view.revision,
      current: this.view.current,
      synced: this.view.synced,
    };
  }

  /** Whether reads may be answered from the view now. */
  fresh(now = Date.now()): boolean {
    const reached = this.view.revision;
    if (!this.view.current || reached < this.#barrier) return false;
    if (this.#observed.length > 0) this.#observed = this.#observed.filter((o) => o.revision > reached);
    return this.#observed.every((o) => now - o.at <= this.allowanceMs);
  }
}
