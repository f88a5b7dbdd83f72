/**
 * Watch delivery for the SQLite backend: every watcher of this process, fed from the `events` table
 * in revision order, one batch per revision, only the keys under its prefix. The store tells the hub
 * when the file's revision moved (`advance`); the hub reads the new events once for all watchers.
 */
import { CompactedError } from '../errors.js';
import { groupByRevision } from '../key-value.js';
import { prefixEnd } from '../prefix.js';
import type { WatchBatch, WatchEvent, WatchHandlers, Watcher } from '../types.js';
import { PUT, rowToKv, type EventRow, type Statements } from './schema.js';

interface WatchEntry {
  readonly prefix: string;
  readonly end: string;
  readonly handlers: WatchHandlers;
  /** The next revision this watcher expects. */
  next: number;
  closed: boolean;
}

export class WatchHub {
  readonly #watchers = new Set<WatchEntry>();
  /** The highest revision whose events were dispatched to live watchers. */
  #dispatched: number;

  constructor(
    private readonly stmts: Statements,
    private readonly isClosed: () => boolean,
    /** Looks for new revisions now (a progress request must report what is in the file). */
    private readonly poll: () => void,
  ) {
    this.#dispatched = stmts.revision.get()!.v;
  }

  get dispatched(): number {
    return this.#dispatched;
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    const entry: WatchEntry = {
      prefix,
      end: prefixEnd(prefix),
      handlers,
      next: Math.max(1, fromRevision),
      closed: false,
    };
    // Deliver asynchronously, so the caller holds the Watcher before the first event arrives.
    setImmediate(() => this.#start(entry));
    return {
      close: async () => {
        entry.closed = true;
        this.#watchers.delete(entry);
      },
      requestProgress: () => {
        setImmediate(() => {
          if (entry.closed || this.isClosed()) return;
          this.poll();
          this.#progress([entry]);
        });
      },
    };
  }

  #start(entry: WatchEntry): void {
    if (entry.closed || this.isClosed()) return;
    const compacted = this.stmts.compacted.get()!.v;
    if (entry.next <= compacted) {
      entry.closed = true;
      entry.handlers.onError(
        new CompactedError(`revision ${entry.next} is compacted (history starts after ${compacted})`),
      );
      return;
    }
    if (entry.next <= this.#dispatched) {
      this.#deliver([entry], this.stmts.eventsBetween.all(entry.next, this.#dispatched));
    }
    entry.next = Math.max(entry.next, this.#dispatched + 1);
    if (!entry.closed) this.#watchers.add(entry);
    this.#progress([entry]);
  }

  /** The file is at `revision`: delivers what happened since the last dispatch to every watcher. */
  advance(revision: number): void {
    if (revision <= this.#dispatched) return;
    const rows = this.stmts.eventsSince.all(this.#dispatched);
    const compacted = this.stmts.compacted.get()!.v;
    if (compacted > this.#dispatched) {
      const err = new CompactedError(`this process fell behind compacted history (${compacted})`);
      for (const w of this.#watchers) {
        w.closed = true;
        w.handlers.onError(err);
      }
      this.#watchers.clear();
    }
    this.#dispatched = revision;
    this.#deliver([...this.#watchers], rows);
    this.#progress([...this.#watchers]);
  }

  clear(): void {
    this.#watchers.clear();
  }

  /** Tells watchers that every change up to the dispatched revision has been delivered. */
  #progress(watchers: WatchEntry[]): void {
    for (const w of watchers) if (!w.closed) w.handlers.onProgress?.(this.#dispatched);
  }

  #deliver(watchers: WatchEntry[], rows: EventRow[]): void {
    if (rows.length === 0 || watchers.length === 0) return;
    const batches = groupByRevision(rows, (row) => row.rev);
    for (const w of watchers) {
      for (const b of batches) {
        if (w.closed) break;
        if (b.revision < w.next) continue;
        w.next = b.revision + 1;
        const events: WatchEvent[] = [];
        for (const row of b.events) {
          if (row.key >= w.prefix && row.key < w.end) {
            events.push({ type: row.type === PUT ? 'put' : 'delete', kv: rowToKv(row) });
          }
        }
        if (events.length > 0) this.#send(w, { revision: b.revision, events });
      }
    }
  }

  #send(w: WatchEntry, batch: WatchBatch): void {
    try {
      w.handlers.onBatch(batch);
    } catch (err) {
      w.closed = true;
      this.#watchers.delete(w);
      w.handlers.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
