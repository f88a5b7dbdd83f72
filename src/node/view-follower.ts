/**
 * A node part that follows the view: it reads the whole view when it starts and after every re-list
 * (`resync`), and each change as it is applied. ClusterMetrics and EventRecorder are two.
 */
import type { ClusterView } from '../cluster/view.js';
import type { WatchEvent } from '../store/types.js';

export abstract class ViewFollower {
  readonly #onChange = (events: readonly WatchEvent[], revision: number): void =>
    this.applyChange(events, revision);
  readonly #onResync = (): void => this.resync();

  constructor(protected readonly view: ClusterView) {}

  start(): void {
    this.view.on('change', this.#onChange);
    this.view.on('resync', this.#onResync);
    this.resync();
  }

  stop(): void {
    this.view.off('change', this.#onChange);
    this.view.off('resync', this.#onResync);
  }

  /** Reads the whole view afresh. */
  protected abstract resync(): void;

  /** Takes one change the view applied, at `revision`. */
  protected abstract applyChange(events: readonly WatchEvent[], revision: number): void;
}
