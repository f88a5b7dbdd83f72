/**
 * Fakes for the unit tests of one piece of the actions layer (engine, run writer, submitter): an
 * in-memory store with revisions, compare-and-swap and a watch (so the real ClusterView and
 * ClusterState run on it), with faults to inject; and a master role whose term the test sets.
 * The integration suites run the same pieces on the real stores and real master election.
 */
import { EventEmitter } from 'node:events';

import { pino } from 'pino';

import { ClusterKeys } from '../../src/cluster/keys.js';
import type { MasterRole, MasterTerm } from '../../src/cluster/master.js';
import { NotMasterError } from '../../src/errors/domain.js';
import { ClusterState } from '../../src/cluster/state.js';
import { ClusterView } from '../../src/cluster/view.js';
import type {
  Compare,
  KeyValue,
  Lease,
  RangeResult,
  Store,
  TxnRequest,
  TxnResult,
  WatchHandlers,
  Watcher,
} from '../../src/store/types.js';

export const silent = pino({ level: 'silent' });

function holds(c: Compare, kv: KeyValue | undefined): boolean {
  const actual =
    c.target === 'value'
      ? (kv?.value ?? '')
      : c.target === 'mod'
        ? (kv?.modRevision ?? 0)
        : c.target === 'create'
          ? (kv?.createRevision ?? 0)
          : (kv?.version ?? 0);
  switch (c.op) {
    case '=':
      return actual === c.value;
    case '!=':
      return actual !== c.value;
    case '<':
      return actual < c.value;
    case '>':
      return actual > c.value;
  }
}

/** A store in memory. `faults` makes the next transactions fail, each in its own way. */
export class MemoryStore implements Store {
  readonly profile = { name: 'sqlite', minLeaseTtlMs: 1000 } as unknown as Store['profile'];
  readonly #data = new Map<string, KeyValue>();
  readonly #watchers = new Set<{ prefix: string; handlers: WatchHandlers }>();
  #revision = 0;
  /**
   * What the next transactions do instead of (or besides) applying: `throw` fails before applying,
   * `apply-then-throw` applies and then fails (an outcome the client never heard).
   */
  readonly faults: { mode: 'throw' | 'apply-then-throw'; error: () => Error }[] = [];
  txns = 0;
  /** While set, watch deliveries wait here: a watch that lags behind the store. */
  #held: (() => void)[] | undefined;

  async get(key: string): Promise<KeyValue | undefined> {
    return this.#data.get(key);
  }

  async range(prefix: string): Promise<RangeResult> {
    const kvs = [...this.#data.values()].filter((kv) => kv.key.startsWith(prefix));
    return { kvs: kvs.sort((a, b) => (a.key < b.key ? -1 : 1)), revision: this.#revision };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.txns++;
    const fault = this.faults.shift();
    if (fault?.mode === 'throw') throw fault.error();
    const succeeded = request.compare.every((c) => holds(c, this.#data.get(c.key)));
    const ops = succeeded ? request.success : (request.failure ?? []);
    if (ops.length > 0) this.#apply(ops);
    if (fault) throw fault.error();
    return { succeeded, revision: this.#revision };
  }

  /** Writes outside any transaction a test drives: another node's write, say. */
  put(key: string, value: string): number {
    this.#apply([{ type: 'put', key, value }]);
    return this.#revision;
  }

  #apply(ops: TxnRequest['success']): void {
    const revision = ++this.#revision;
    const events = ops.map((op) => {
      const old = this.#data.get(op.key);
      if (op.type === 'delete') {
        this.#data.delete(op.key);
        return { type: 'delete' as const, kv: { ...(old ?? emptyKv(op.key)), modRevision: revision } };
      }
      const kv: KeyValue = {
        key: op.key,
        value: op.value,
        createRevision: old?.createRevision ?? revision,
        modRevision: revision,
        version: (old?.version ?? 0) + 1,
        lease: op.lease,
      };
      this.#data.set(op.key, kv);
      return { type: 'put' as const, kv };
    });
    for (const w of this.#watchers) {
      const mine = events.filter((e) => e.kv.key.startsWith(w.prefix));
      // Delivered after the write returns, as a real watch delivers.
      const deliver = (): void => w.handlers.onBatch({ revision, events: mine });
      if (mine.length === 0) continue;
      if (this.#held) this.#held.push(deliver);
      else queueMicrotask(deliver);
    }
  }

  /** Holds watch deliveries back until `releaseWatch`: the view falls behind the store. */
  holdWatch(): void {
    this.#held ??= [];
  }

  releaseWatch(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const deliver of held) deliver();
  }

  watch(prefix: string, _fromRevision: number, handlers: WatchHandlers): Watcher {
    const w = { prefix, handlers };
    this.#watchers.add(w);
    return { close: async () => void this.#watchers.delete(w), requestProgress: () => undefined };
  }

  async grantLease(): Promise<Lease> {
    throw new Error('MemoryStore has no leases');
  }

  async revokeLease(): Promise<void> {}

  async close(): Promise<void> {
    this.#watchers.clear();
  }
}

function emptyKv(key: string): KeyValue {
  return { key, value: '', createRevision: 0, modRevision: 0, version: 0, lease: undefined };
}

/** A master role whose term the test sets: `elect` and `depose` stand in for the election. */
export class FakeMaster extends EventEmitter<{
  elected: [term: MasterTerm];
  deposed: [term: MasterTerm, reason: string];
}> {
  term: MasterTerm | undefined;
  /** The term each fenced write was made under. */
  readonly fencedTerms: (MasterTerm | undefined)[] = [];

  constructor(private readonly store: Store) {
    super();
  }

  /** The engine registers its take-over writes here; the fake never hands over nor takes over. */
  readonly handOver = {
    setTakeOverExtras(): void {},
    give(): Promise<never> {
      return Promise.reject(new Error('the fake master does not hand over'));
    },
  };

  async fencedTxn(request: TxnRequest, decidedUnder?: MasterTerm): Promise<TxnResult> {
    this.fencedTerms.push(decidedUnder);
    if (!this.term || (decidedUnder !== undefined && decidedUnder !== this.term)) throw new NotMasterError();
    return this.store.txn(request);
  }

  elect(epoch = 1): MasterTerm {
    this.term = { token: epoch, epoch, since: Date.now(), viaAction: undefined, previous: undefined };
    this.emit('elected', this.term);
    return this.term;
  }

  depose(reason: string): void {
    const term = this.term!;
    this.term = undefined;
    this.emit('deposed', term, reason);
  }

  /** What the engine and the run writer take: the fake stands in for the real role. */
  get role(): MasterRole {
    return this as unknown as MasterRole;
  }
}

/** A cluster of one node (uid 1) over a MemoryStore: the real view and state on a fake store. */
export async function memoryCluster(): Promise<{
  store: MemoryStore;
  keys: ClusterKeys;
  view: ClusterView;
  state: ClusterState;
}> {
  const store = new MemoryStore();
  const keys = new ClusterKeys('/test/');
  const view = new ClusterView(store, keys.prefix, silent);
  await view.start();
  return { store, keys, view, state: new ClusterState(view, keys, 1) };
}
