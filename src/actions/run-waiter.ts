/**
 * Server-side wait (`GET /v1/actions/{uid}?wait=30s`, README.md "Waiting for a run"): holds a request
 * until the run reaches a terminal status, the wait runs out, the client goes away, or the node stops.
 * One view listener serves every waiting request, so a thousand waiters cost a map entry each.
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import type { WatchEvent } from '../store/types.js';
import { runKey } from './run.js';
import { isTerminal } from './status.js';

export class RunWaiter {
  readonly #waiting = new Map<string, Set<() => void>>();
  readonly #onChange = (events: readonly WatchEvent[]) => {
    for (const ev of events) {
      const waiters = this.#waiting.get(ev.kv.key);
      if (waiters && this.#done(ev.kv.key.slice(this.keys.actions.length)))
        for (const release of [...waiters]) release();
    }
  };

  constructor(
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
  ) {
    view.on('change', this.#onChange);
  }

  /** Resolves when the run is terminal (at once if it is), gone, or after `ms`, or on `signal`. */
  wait(uid: string, ms: number, signal?: AbortSignal): Promise<void> {
    const key = this.keys.action(uid);
    if (ms <= 0 || this.#done(uid) || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.#waiting.get(key);
      if (!set) this.#waiting.set(key, (set = new Set()));
      const release = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', release);
        set.delete(release);
        if (set.size === 0) this.#waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(release, ms);
      signal?.addEventListener('abort', release, { once: true });
      set.add(release);
    });
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.#waiting.values()) n += set.size;
    return n;
  }

  /** Answers every waiting request now, with the run as it stands (the node is stopping). */
  releaseAll(): void {
    for (const set of [...this.#waiting.values()]) for (const release of [...set]) release();
  }

  close(): void {
    this.releaseAll();
    this.view.off('change', this.#onChange);
  }

  #done(uid: string): boolean {
    const run = this.view.read(runKey(this.keys, uid));
    return run === undefined || isTerminal(run.status);
  }
}
