/**
 * One store watch over one etcd watch stream, resumed from the next undelivered revision whenever the
 * stream breaks.
 *
 * etcd3's own Watcher is not used: after every response, including the "created" one, it sets its
 * resume point to the response header's revision + 1. While a watch still replays history, that
 * header carries the store's current revision, so a stream that broke mid-replay would resume past
 * history it never delivered. It also drops the compact revision of a cancelled watch. Here the
 * resume point only moves past revisions whose events were delivered.
 */
import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse, WatchClient } from 'etcd3';

import { CompactedError, StoreError } from '../errors.js';
import { groupByRevision, toKv } from '../key-value.js';
import type { WatchBatch, WatchEvent, WatchHandlers, Watcher } from '../types.js';

type Stream = IDuplexStream<IWatchRequest, IWatchResponse>;

const MIN_BACKOFF_MS = 50;
// Short: a watch resumes within half a second of its member (or another) answering again.
const MAX_BACKOFF_MS = 500;

export interface WatchTarget {
  /** The first key of the range (namespace included). */
  readonly key: Buffer;
  /** The end of the range, exclusive. */
  readonly rangeEnd: Buffer;
  /** Turns a full etcd key into the caller's key (strips the namespace). */
  readonly unprefix: (key: Buffer) => string;
}

export class EtcdWatch implements Watcher {
  #next: number;
  #closed = false;
  #stream: Stream | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #backoffMs = MIN_BACKOFF_MS;
  /** A progress report was asked for and not yet given. */
  #progressWanted = false;
  #created = false;
  #progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: WatchClient,
    private readonly target: WatchTarget,
    fromRevision: number,
    private readonly handlers: WatchHandlers,
    private readonly onClosed: (w: EtcdWatch) => void,
  ) {
    this.#next = Math.max(1, fromRevision);
    this.#connect();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#progressTimer);
    this.#endStream();
    this.onClosed(this);
  }

  /**
   * Asks etcd for a progress report (etcd 3.4's WatchProgressRequest): an empty response whose header
   * revision says every change up to it was sent. etcd answers only once the stream's watch has caught
   * up with history, so the request is repeated until an answer comes.
   */
  requestProgress(): void {
    if (this.#closed) return;
    this.#progressWanted = true;
    this.#sendProgressRequest();
  }

  #sendProgressRequest(): void {
    clearTimeout(this.#progressTimer);
    if (!this.#progressWanted || this.#closed) return;
    if (this.#stream && this.#created) {
      try {
        this.#stream.write({ progress_request: {} });
      } catch {
        // The stream is going away; the reconnect asks again.
      }
    }
    this.#progressTimer = setTimeout(() => this.#sendProgressRequest(), 250);
  }

  #connect(): void {
    if (this.#closed) return;
    this.client.watch().then(
      (stream) => {
        if (this.#closed) {
          this.#endStream(stream);
          return;
        }
        this.#stream = stream;
        this.#created = false;
        stream.on('data', (res) => this.#onResponse(stream, res));
        stream.on('error', () => this.#onBroken(stream));
        stream.on('end', () => this.#onBroken(stream));
        stream.write({
          create_request: {
            key: this.target.key,
            range_end: this.target.rangeEnd,
            start_revision: this.#next,
          },
        });
      },
      () => this.#scheduleReconnect(),
    );
  }

  #onResponse(stream: Stream, res: IWatchResponse): void {
    if (this.#closed || stream !== this.#stream) return;
    if (res.canceled) {
      const compactRevision = Number(res.compact_revision);
      const err =
        compactRevision > 0
          ? new CompactedError(`revision ${this.#next} is compacted (history starts at ${compactRevision})`)
          : new StoreError(`etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`);
      this.#fail(err);
      return;
    }
    if (res.created) {
      this.#backoffMs = MIN_BACKOFF_MS;
      this.#created = true;
      if (this.#progressWanted) this.#sendProgressRequest();
      return;
    }
    if (res.events.length === 0) {
      // A progress report: nothing up to the header's revision is left to send on this stream.
      const revision = Number(res.header?.revision ?? 0);
      if (revision > 0) {
        this.#progressWanted = false;
        clearTimeout(this.#progressTimer);
        this.handlers.onProgress?.(revision);
      }
      return;
    }
    for (const batch of this.#batches(res.events)) {
      // After a reconnect etcd replays from #next, so nothing is delivered twice; this guards anyway.
      if (batch.revision < this.#next) continue;
      this.#next = batch.revision + 1;
      try {
        this.handlers.onBatch(batch);
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.#closed) return;
    }
  }

  /** etcd never splits one revision's events across responses (without the `fragment` option). */
  #batches(events: readonly IEvent[]): WatchBatch[] {
    const changes = events.map((ev): WatchEvent => {
      const kv = ev.kv;
      const type = String(ev.type).toLowerCase() === 'delete' ? 'delete' : 'put';
      const key = this.target.unprefix(kv.key);
      const value = kv.value.toString('utf8');
      return { type, kv: toKv(key, value, kv.create_revision, kv.mod_revision, kv.version, kv.lease) };
    });
    return groupByRevision(changes, (e) => e.kv.modRevision);
  }

  #onBroken(stream: Stream): void {
    if (this.#closed || stream !== this.#stream) return;
    this.#endStream();
    this.#created = false;
    this.handlers.onInterrupted?.();
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#retryTimer = setTimeout(() => this.#connect(), wait);
  }

  #fail(err: Error): void {
    void this.close();
    this.handlers.onError(err);
  }

  #endStream(stream = this.#stream): void {
    if (stream === this.#stream) this.#stream = undefined;
    if (!stream) return;
    // end() first: etcd3 counts an error on a still-writable stream against the member's health.
    try {
      stream.end();
      stream.cancel();
    } catch {
      // Already closed.
    }
  }
}
