/**
 * A watch-fed, in-memory copy of one cluster's keys (an "informer", as Kubernetes calls it).
 * Every GET is served from here, so reads cost microseconds on either store, and the coordinator
 * loops react to the same change stream instead of polling.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

import type { Logger } from 'pino';

import { backoff } from '../lib/retry.js';
import { prefixEnd } from '../store/prefix.js';
import type { Key, KeyFolder, RecordType } from '../store/typed-key.js';
import { StoreUnavailableError } from '../store/errors.js';
import type { KeyValue, Store, WatchBatch, WatchEvent, Watcher } from '../store/types.js';

interface Entry {
  kv: KeyValue;
  /** The record, parsed and checked against its key's schema at its first read (once per revision). */
  record?: unknown;
}

export interface ViewEvents {
  /** Fired once per store revision, after the view has applied it. */
  change: [events: readonly WatchEvent[], revision: number];
  /** Fired after a full re-list (first sync, or recovery from a broken watch). */
  resync: [revision: number];
  /** The watch's connection broke; it resumes where it was, but changes may arrive late meanwhile. */
  interrupted: [];
}

export class ClusterView extends EventEmitter<ViewEvents> {
  readonly #entries = new Map<string, Entry>();
  /**
   * Keys grouped by folder (everything up to the last '/'), each folder's sorted list built on
   * demand: listing runs or nodes then costs the size of that folder, not of the whole cluster,
   * which matters once thousands of finished runs are retained.
   */
  readonly #folders = new Map<string, { keys: Set<string>; sorted: KeyValue[] | undefined }>();
  #revision = 0;
  #watcher: Watcher | undefined;
  #closed = false;
  #waiters: { revision: number; resolve: () => void }[] = [];
  #synced = false;
  /** The watch's connection broke; changes may be late until its next progress report. */
  #interrupted = false;
  /** The highest revision a watch progress report vouched for (see `reportedRevision`). */
  #progressRevision = 0;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(50);
  }

  /** The store revision the view has caught up with. */
  get revision(): number {
    return this.#revision;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Synced, and the watch has not been interrupted since its last progress report. */
  get current(): boolean {
    return this.#synced && !this.#interrupted;
  }

  /**
   * The revision the view has applied, or a higher one a watch progress report vouched for. Only an
   * estimate of currency: etcd 3.4.23 answers a progress request on a separate channel from the
   * events, so the report can overtake events still in flight. Nothing is skipped on its account;
   * it only tells a quiet prefix from a stalled watch.
   */
  get reportedRevision(): number {
    return Math.max(this.#revision, this.#progressRevision);
  }

  /**
   * Asks the watch to report once everything up to the store's current revision is delivered; the
   * view's revision then moves to it even when nothing under the prefix changed.
   */
  requestProgress(): void {
    this.#watcher?.requestProgress();
  }

  async start(): Promise<void> {
    await this.#resync();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher?.close();
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
  }

  get(key: string): KeyValue | undefined {
    return this.#entries.get(key)?.kv;
  }

  /**
   * The key as the view holds it, or, when the view has no such key, as the store holds it now.
   * A key the view lacks may simply not have reached it yet (a watch behind, a node cut off from
   * the store for less than its lease), and an answer of "no such thing" is the one a stale view
   * gets most wrong: a run accepted elsewhere a second ago answered 404. So absence is confirmed
   * by a read from the store, which is linearizable on both backends, before anyone is told. A
   * store that cannot be reached rejects, and the caller answers 503 rather than a guess.
   */
  async getConfirmed(key: string): Promise<KeyValue | undefined> {
    return this.get(key) ?? (await this.store.get(key));
  }

  /**
   * Resolves once the view holds `key` if the store has it: at once when the view has it already,
   * else after a read from the store and, when the store has the key, a wait for the view to apply
   * it. For verdicts of absence ("no such node", "no such user"), which a view a moment behind gets
   * wrong for something created elsewhere a moment ago. A store out of reach, or a view that does
   * not catch up within `timeoutMs`, rejects with a StoreError: the caller answers 503, not a guess.
   */
  async settle(key: string, timeoutMs = 3000): Promise<void> {
    if (this.get(key)) return;
    const kv = await this.store.get(key);
    if (kv) await this.#caughtUpTo(kv.modRevision, timeoutMs);
  }

  /** As `settle`, for every key under `prefix` the store holds now. */
  async settleFolder(prefix: string, timeoutMs = 3000): Promise<void> {
    const { kvs } = await this.store.range(prefix);
    const newest = kvs.reduce((max, kv) => Math.max(max, kv.modRevision), 0);
    await this.#caughtUpTo(newest, timeoutMs);
  }

  async #caughtUpTo(revision: number, timeoutMs: number): Promise<void> {
    try {
      await this.waitFor(revision, timeoutMs);
    } catch (err) {
      throw new StoreUnavailableError(
        `this node's view of the cluster has not caught up with the store (revision ${revision})`,
        { cause: err },
      );
    }
  }

  /**
   * The record under a typed key, parsed and checked once per revision of the key (its first read);
   * later reads return the same object. Throws MalformedRecordError for a record of the wrong shape.
   */
  read<T>(key: Key<T>): T | undefined {
    const entry = this.#entries.get(key.key);
    return entry && this.#record(entry, key.type);
  }

  #record<T>(entry: Entry, type: RecordType<T>): T {
    if (entry.record === undefined) entry.record = type.decode(entry.kv.key, entry.kv.value);
    return entry.record as T;
  }

  /** Every key under `prefix`, sorted by key. The array may be shared: do not mutate it. */
  list(prefix: string): KeyValue[] {
    const folders = [...this.#folders.keys()].filter((f) => f.startsWith(prefix)).sort();
    // The common case, a whole folder: its cached sorted list (callers must not mutate it).
    if (folders.length === 1 && folders[0] === prefix) return this.#sortedFolder(prefix);
    // Several folders, or a prefix that ends inside a key: merge. (Rare; not on request paths.)
    const end = prefixEnd(prefix);
    const out: KeyValue[] = [];
    for (const folder of folders)
      for (const kv of this.#sortedFolder(folder)) if (kv.key >= prefix && kv.key < end) out.push(kv);
    const parent = this.#folders.get(prefix.slice(0, prefix.lastIndexOf('/') + 1));
    if (parent && !folders.includes(prefix.slice(0, prefix.lastIndexOf('/') + 1))) {
      for (const key of parent.keys) if (key >= prefix && key < end) out.push(this.#entries.get(key)!.kv);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  #sortedFolder(folder: string): KeyValue[] {
    const f = this.#folders.get(folder)!;
    f.sorted ??= [...f.keys].sort().map((k) => this.#entries.get(k)!.kv);
    return f.sorted;
  }

  #put(kv: KeyValue): void {
    this.#entries.set(kv.key, { kv });
    const folder = kv.key.slice(0, kv.key.lastIndexOf('/') + 1);
    let f = this.#folders.get(folder);
    if (!f) this.#folders.set(folder, (f = { keys: new Set(), sorted: undefined }));
    f.keys.add(kv.key);
    f.sorted = undefined;
  }

  #delete(key: string): void {
    if (!this.#entries.delete(key)) return;
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    const f = this.#folders.get(folder);
    if (!f) return;
    f.keys.delete(key);
    f.sorted = undefined;
    if (f.keys.size === 0) this.#folders.delete(folder);
  }

  /** The records of every key in `folder`, sorted by key. */
  readAll<T>(folder: KeyFolder<T>): T[] {
    return this.list(folder.prefix).map((kv) => this.#record(this.#entries.get(kv.key)!, folder.type));
  }

  /** The record of `kv`, a key-value this view listed, checked as `type` (once per revision). */
  recordOf<T>(kv: KeyValue, type: RecordType<T>): T {
    const entry = this.#entries.get(kv.key);
    // A key-value from an older listing: decode it without caching.
    return entry?.kv === kv ? this.#record(entry, type) : type.decode(kv.key, kv.value);
  }

  /**
   * Resolves once the view has applied `revision`: after a node's own write, it answers only from a
   * view that contains that write (read-your-writes).
   */
  waitFor(revision: number, timeoutMs = 5000): Promise<void> {
    if (this.#revision >= revision || this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`the view did not reach revision ${revision} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
  }

  async #resync(): Promise<void> {
    for (let failures = 0; ; failures++) {
      if (this.#closed) return;
      try {
        await this.#watcher?.close();
        const { kvs, revision } = await this.store.range(this.prefix);
        this.#entries.clear();
        this.#folders.clear();
        for (const kv of kvs) this.#put(kv);
        this.#setRevision(revision);
        this.#synced = true;
        this.#interrupted = false;
        this.#watcher = this.store.watch(this.prefix, revision + 1, {
          onBatch: (batch) => this.#apply(batch),
          onProgress: (rev) => {
            this.#interrupted = false;
            this.#progressRevision = Math.max(this.#progressRevision, rev);
          },
          onInterrupted: () => {
            this.#interrupted = true;
            this.#watcher?.requestProgress();
            this.emit('interrupted');
          },
          onError: (err) => {
            if (this.#closed) return;
            this.log.warn({ err }, 'watch broke; re-listing the cluster prefix');
            this.#synced = false;
            void this.#resync();
          },
        });
        this.emit('resync', revision);
        return;
      } catch (err) {
        if (this.#closed) return;
        this.log.warn({ err }, 'could not list the cluster prefix; retrying');
        await delay(backoff(failures));
      }
    }
  }

  #apply(batch: WatchBatch): void {
    if (batch.revision <= this.#revision) return;
    for (const ev of batch.events) {
      if (ev.type === 'put') this.#put(ev.kv);
      else this.#delete(ev.kv.key);
    }
    this.#setRevision(batch.revision);
    this.emit('change', batch.events, batch.revision);
  }

  #setRevision(revision: number): void {
    this.#revision = Math.max(this.#revision, revision);
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => w.revision <= this.#revision);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.revision > this.#revision);
    for (const w of ready) w.resolve();
  }
}
