/**
 * Server-side wait (`GET /v1/actions/{uid}?wait=30s`, README.md "Waiting for a run"): holds a request
 * until the run reaches a terminal status, the wait runs out, the client goes away, or the node stops.
 * One view listener serves every waiting request, so a thousand waiters cost a map entry each.
 */
import type { RunReadModel } from './run-read-model.js';
import { isTerminal } from './status.js';

export class RunWaiter {
  readonly #waiting = new Map<string, Set<() => void>>();
  readonly #stop: () => void;

  constructor(private readonly runs: RunReadModel) {
    this.#stop = runs.watch((uid) => {
      const waiters = this.#waiting.get(uid);
      if (waiters && this.#done(uid)) for (const release of [...waiters]) release();
    });
  }

  /** Resolves when the run is terminal (at once if it is), gone, or after `ms`, or on `signal`. */
  wait(uid: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || this.#done(uid) || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.#waiting.get(uid);
      if (!set) this.#waiting.set(uid, (set = new Set()));
      const release = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', release);
        set.delete(release);
        if (set.size === 0) this.#waiting.delete(uid);
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
    this.#stop();
  }

  #done(uid: string): boolean {
    const run = this.runs.run(uid);
    return run === undefined || isTerminal(run.status);
  }
}
