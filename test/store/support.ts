/**
 * Small helpers for store tests. Nothing here measures time: waits poll a condition and only give up
 * after a generous timeout, so a slow machine makes a test slower, never red.
 */
import type { Op, Store, WatchBatch, WatchEvent, WatchHandlers } from '../../src/store/types.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Freezes this process's event loop, as a long GC pause or SIGSTOP would: no timer, keep-alive or
 * socket callback runs meanwhile.
 */
export function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export const put = (key: string, value: string, lease?: string): Op => ({ type: 'put', key, value, lease });
export const del = (key: string): Op => ({ type: 'delete', key });

/** Applies `ops` unconditionally and returns the revision they were written at. */
export async function write(store: Store, ...ops: Op[]): Promise<number> {
  const res = await store.txn({ compare: [], success: ops });
  if (!res.succeeded) throw new Error('an unconditional transaction failed');
  return res.revision;
}

/** Records what a watch delivers. */
export class Collector implements WatchHandlers {
  readonly batches: WatchBatch[] = [];
  readonly errors: Error[] = [];

  readonly onBatch = (batch: WatchBatch): void => {
    this.batches.push(batch);
  };

  readonly onError = (err: Error): void => {
    this.errors.push(err);
  };

  get events(): WatchEvent[] {
    return this.batches.flatMap((b) => b.events);
  }

  get lastRevision(): number {
    return this.batches.at(-1)?.revision ?? 0;
  }

  /** Waits until a batch at `revision` or later has arrived. */
  async reach(revision: number, timeoutMs?: number): Promise<void> {
    await waitFor(`watch to reach revision ${revision}`, () => this.#check() >= revision, timeoutMs);
  }

  async waitForEvent(
    what: string,
    match: (e: WatchEvent) => boolean,
    timeoutMs?: number,
  ): Promise<WatchEvent> {
    let found: WatchEvent | undefined;
    await waitFor(
      what,
      () => {
        this.#check();
        found = this.events.find(match);
        return found !== undefined;
      },
      timeoutMs,
    );
    return found!;
  }

  /** Surfaces a watch error at once instead of as a timeout. */
  #check(): number {
    const err = this.errors[0];
    if (err) throw err;
    return this.lastRevision;
  }
}
