/**
 * One open event stream: a cursor into the node's change feed (cluster/change-feed.ts), pumped into
 * the socket as fast as the client reads and no faster.
 *
 * Slow readers: a stream keeps no queue of its own. It writes until the socket's buffer passes its
 * high-water mark, then waits for `drain` and resumes from its cursor in the shared replay window. So
 * a slow reader holds at most one socket buffer plus one batch of memory, and never delays anyone
 * else. One that falls so far behind that its next event has left the window is closed; it resumes
 * with its `Last-Event-ID` and is told `reset` (README.md, "Event streams").
 */
import type { ServerResponse } from 'node:http';

import type { ChangeFeed, FeedBatch } from '../../cluster/change-feed.js';

/** Turns a batch into what this stream sends of it ('' for nothing); `end` closes the stream after. */
export type BatchFilter = (batch: FeedBatch) => { readonly frame: string; readonly end: boolean };

export class SseConnection {
  #cursor: number;
  #draining = false;
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  /** Why the server closed the stream, for tests and logs. */
  closedBecause: string | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly feed: ChangeFeed,
    private readonly filter: BatchFilter,
    /** What to send when the feed resets under a live stream (the view re-listed). */
    private readonly onReset: (revision: number) => { frame: string; end: boolean },
    cursor: number,
    private readonly onClosed: (conn: SseConnection) => void,
  ) {
    this.#cursor = cursor;
    res.once('close', () => this.#finish());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts following the feed after the cursor: replays what the window holds, then goes live. */
  follow(): void {
    if (this.#closed) return;
    this.#unsubscribe = this.feed.subscribe((batch) => {
      if ('reset' in batch) {
        this.#cursor = batch.reset;
        const { frame, end } = this.onReset(batch.reset);
        this.write(frame);
        if (end) this.close('done');
        return;
      }
      this.#pump();
    });
    this.#pump();
  }

  /** Writes raw SSE text; false once the stream is closed. */
  write(text: string): boolean {
    if (this.#closed || text === '') return !this.#closed;
    if (!this.res.write(text) && !this.#draining) {
      this.#draining = true;
      this.res.once('drain', () => {
        this.#draining = false;
        this.#pump();
      });
    }
    return true;
  }

  /** A heartbeat comment, unless the client is not reading anyway (the idle timeout then decides). */
  heartbeat(): void {
    if (!this.#draining) this.write(': heartbeat\n\n');
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.closedBecause = reason;
    this.res.end();
    this.#finish();
  }

  #pump(): void {
    if (this.#closed || this.#draining) return;
    const batches = this.feed.since(this.#cursor);
    if (!batches) {
      // Its next event left the replay window: the client resumes and is told `reset`.
      this.closedBecause = 'fell behind the replay window';
      this.res.destroy();
      this.#finish();
      return;
    }
    for (const batch of batches) {
      this.#cursor = batch.revision;
      const { frame, end } = this.filter(batch);
      this.write(frame);
      if (end) return this.close('done');
      if (this.#draining) return;
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.onClosed(this);
  }
}
