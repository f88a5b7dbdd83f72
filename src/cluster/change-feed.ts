/**
 * The node's change feed: the view's per-revision changes turned into typed events once, kept in a
 * bounded in-memory replay window, and fanned out to subscribers (the SSE streams, src/api/sse/).
 *
 * Why a window fed by the view rather than one store watch per stream: every node's view applies
 * every revision of the cluster prefix in order (view.ts), so every node renders the same events for
 * the same revision. A client that resumes on any node with `Last-Event-ID: <revision>` gets the
 * events after it from that node's window, with no store traffic per stream (200 streams cost 200
 * sockets, not 200 watches). The window holds the changes since the node started (or since its view
 * last re-listed), up to `maxEvents`; a revision older than that is "gone", and the stream says
 * `reset` (docs/decisions.md, "Event stream replay").
 */
import type { WatchEvent } from '../store/types.js';
import type { ClusterView } from './view.js';

/** One typed event of the feed. `text` is its SSE framing without the `id:` line. */
export interface FeedEvent {
  readonly revision: number;
  readonly type: string;
  /** The object the event is about (an action uid, a node uid...), for per-object streams. */
  readonly subject: string;
  readonly data: unknown;
  readonly text: string;
}

/** Every event of one revision, and their SSE frame with the `id:` on the last one. */
export interface FeedBatch {
  readonly revision: number;
  readonly events: readonly FeedEvent[];
  readonly frame: string;
}

export type FeedListener = (batch: FeedBatch | { readonly reset: number }) => void;

/** Turns one revision's raw changes into typed events, reading the view as of that revision. */
export type FeedRenderer = (changes: readonly WatchEvent[], revision: number) => FeedEvent[];

/** The SSE framing of one event (no `id:` line): `event:` and one `data:` line of JSON. */
export function frameEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n`;
}

/** A batch's frame: its events, the `id:` line on the last one only (see README "Event streams"). */
export function frameBatch(revision: number, events: readonly FeedEvent[]): string {
  let out = '';
  events.forEach((e, i) => (out += i === events.length - 1 ? `id: ${revision}\n${e.text}\n` : `${e.text}\n`));
  return out;
}

export class ChangeFeed {
  readonly #window: FeedBatch[] = [];
  #eventCount = 0;
  /** Every event after this revision (and up to the view's) is in the window. */
  #floor: number;
  readonly #listeners = new Set<FeedListener>();
  readonly #onChange = (changes: readonly WatchEvent[], revision: number) => this.#apply(changes, revision);
  readonly #onResync = (revision: number) => this.#reset(revision);

  constructor(
    private readonly view: ClusterView,
    private readonly render: FeedRenderer,
    /** How many events the replay window keeps. (Default: 10000) */
    readonly maxEvents = 10_000,
  ) {
    this.#floor = view.revision;
    view.on('change', this.#onChange);
    view.on('resync', this.#onResync);
  }

  /** The revision the feed is current with (the view's). */
  get revision(): number {
    return this.view.revision;
  }

  /** The oldest revision a client may resume after. */
  get floor(): number {
    return this.#floor;
  }

  /** Resolves once the feed has reached `revision`; rejects after `ms`. */
  waitFor(revision: number, ms: number): Promise<void> {
    return this.view.waitFor(revision, ms);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The batches after `revision`, or undefined when some of them have left the window. */
  since(revision: number): FeedBatch[] | undefined {
    if (revision < this.#floor) return undefined;
    // Newest last: walk back to the first batch after `revision`.
    let i = this.#window.length;
    while (i > 0 && this.#window[i - 1]!.revision > revision) i--;
    return this.#window.slice(i);
  }

  close(): void {
    this.view.off('change', this.#onChange);
    this.view.off('resync', this.#onResync);
    this.#listeners.clear();
  }

  #apply(changes: readonly WatchEvent[], revision: number): void {
    const events = this.render(changes, revision);
    if (events.length === 0) return;
    const batch: FeedBatch = { revision, events, frame: frameBatch(revision, events) };
    this.#window.push(batch);
    this.#eventCount += events.length;
    while (this.#eventCount > this.maxEvents && this.#window.length > 1) {
      const dropped = this.#window.shift()!;
      this.#eventCount -= dropped.events.length;
      this.#floor = dropped.revision;
    }
    for (const listener of this.#listeners) listener(batch);
  }

  /** The view re-listed: revisions may have been skipped, so nothing before `revision` can be replayed. */
  #reset(revision: number): void {
    if (revision <= this.#floor && this.#window.length === 0) return;
    this.#window.length = 0;
    this.#eventCount = 0;
    this.#floor = revision;
    for (const listener of this.#listeners) listener({ reset: revision });
  }
}
