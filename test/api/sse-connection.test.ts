/**
 * The slow-reader rule of the event streams (src/api/sse/sse-connection.ts), with a fake view and a
 * response whose socket stops taking data: the stream stops writing at the socket's high-water mark
 * (no queue of its own), resumes from the shared window on drain, and is closed once its next event
 * has left the window. A fast stream on the same feed is never held back.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';

import { SseConnection } from '../../src/api/sse/sse-connection.js';
import { ChangeFeed, frameEvent, type FeedEvent } from '../../src/cluster/change-feed.js';
import type { ClusterView } from '../../src/cluster/view.js';
import type { WatchEvent } from '../../src/store/types.js';

class FakeView extends EventEmitter {
  revision = 10;
  change(): void {
    this.revision++;
    this.emit('change', [{ type: 'put', kv: { key: 'k' } }], this.revision);
  }
}

/** A response that takes `capacity` writes, then reports back-pressure until drained. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  full = false;
  destroyed = false;
  ended = false;
  constructor(private capacity: number) {
    super();
  }
  write(text: string): boolean {
    this.written.push(text);
    this.full = this.written.length >= this.capacity;
    return !this.full;
  }
  drain(): void {
    this.capacity += 1000;
    this.full = false;
    this.emit('drain');
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const render = (_c: readonly WatchEvent[], revision: number): FeedEvent[] => [
  { revision, type: 'tick', subject: 's', data: { revision }, text: frameEvent('tick', { revision }) },
];

function open(feed: ChangeFeed, res: FakeResponse, cursor: number): SseConnection {
  const conn = new SseConnection(
    res as unknown as ServerResponse,
    feed,
    (batch) => ({ frame: batch.frame, end: false }),
    () => ({ frame: '', end: false }),
    cursor,
    () => undefined,
  );
  conn.follow();
  return conn;
}

describe('event stream back-pressure', () => {
  it('a slow reader holds no queue, resumes on drain, and is closed when it falls out of the window', () => {
    const view = new FakeView();
    const feed = new ChangeFeed(view as unknown as ClusterView, render, 5);
    const fast = new FakeResponse(1_000_000);
    const slow = new FakeResponse(2);
    open(feed, fast, view.revision);
    const slowConn = open(feed, slow, view.revision);

    view.change();
    view.change();
    view.change();
    // The slow one stopped at its socket's mark: two writes, nothing queued in the process.
    assert.equal(slow.written.length, 2);
    assert.equal(fast.written.length, 3);
    slow.drain();
    assert.equal(slow.written.length, 3, 'resumed from its cursor on drain');
    assert.equal(slowConn.closed, false);

    const stuck = new FakeResponse(1);
    const stuckConn = open(feed, stuck, view.revision);
    for (let i = 0; i < 7; i++) view.change();
    assert.equal(fast.written.length, 10, 'the fast reader got every event');
    assert.equal(stuck.written.length, 1);
    stuck.drain();
    // Its next event left the 5-event window: closed, so it resumes with Last-Event-ID and a reset.
    assert.equal(stuck.destroyed, true);
    assert.equal(stuckConn.closedBecause, 'fell behind the replay window');
    assert.equal(feed.subscribers, 2);
  });

  it('replays from the window after a revision, and reports a revision before the window as gone', () => {
    const view = new FakeView();
    const feed = new ChangeFeed(view as unknown as ClusterView, render, 3);
    const start = view.revision;
    for (let i = 0; i < 5; i++) view.change();
    assert.equal(feed.since(start), undefined);
    assert.deepEqual(
      feed.since(view.revision - 2)!.map((b) => b.revision),
      [view.revision - 1, view.revision],
    );
    assert.match(feed.since(view.revision - 1)![0]!.frame, new RegExp(`^id: ${view.revision}\\n`));
  });
});
