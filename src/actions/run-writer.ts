/**
 * The master's writes to one run: compare-and-swap on the run's mod revision, guarded by the master's
 * fencing token, one at a time. A DELETE on another node may change the run concurrently (to
 * `cancelling`); the CAS re-reads and re-applies the change on top of it instead of overwriting it.
 *
 * The write that moves a run to a terminal status also deletes `active/<name>` in the same
 * transaction, so the single-instance guard is released exactly when the run ends.
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { MasterRole, MasterTerm } from '../cluster/master.js';
import type { ClusterView } from '../cluster/view.js';
import { casUpdate } from '../store/cas.js';
import { decodeKv, putRecord } from '../store/typed-key.js';
import type { Compare, KeyValue, Op, Store } from '../store/types.js';
import { actionRunRecord, runKey, type ActionRun } from './run.js';
import { isTerminal } from './status.js';

export class RunWriter {
  #queue: Promise<unknown> = Promise.resolve();
  /** The store revision of this writer's latest successful write (0 before any). */
  lastRevision = 0;

  /** This writer's own latest write, a CAS base at least as new as the view's right after it. */
  #last: KeyValue | undefined;

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly master: MasterRole,
    /** The master term the engine decided this run's fate under; writes are fenced with it. */
    private readonly term: MasterTerm,
    readonly actionUid: string,
  ) {}

  /**
   * Applies `mutate` to the stored run. `mutate` returns undefined to write nothing; the promise
   * then resolves undefined. Writes are queued, so a handler's progress never races its own updates.
   */
  update(mutate: (run: ActionRun) => ActionRun | undefined): Promise<ActionRun | undefined> {
    const next = this.#queue.then(() => this.#apply(mutate));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #apply(mutate: (run: ActionRun) => ActionRun | undefined): Promise<ActionRun | undefined> {
    const key = runKey(this.keys, this.actionUid);
    return casUpdate(
      this.store,
      key,
      async (current, attempt) => {
        const next = current && mutate(current.value);
        if (!next) return { done: undefined };
        const compare: Compare[] = [];
        const ops: Op[] = [putRecord(key, next)];
        if (isTerminal(next.status)) {
          const activeKey = this.keys.activeAction(next.name);
          const active = attempt === 0 ? this.view.get(activeKey) : await this.store.get(activeKey);
          if (active?.value === this.actionUid) {
            compare.push({ key: activeKey, target: 'value', op: '=', value: this.actionUid });
            ops.push({ type: 'delete', key: activeKey });
          }
        }
        return { compare, ops, result: next };
      },
      {
        what: `Run ${this.actionUid}`,
        txn: (request) => this.master.fencedTxn(request, this.term),
        // A store that is briefly unavailable (an etcd leader election) is ridden out this long; a
        // master whose lease is in doubt fences itself well before, and its writes then fail as
        // NotMasterError.
        unavailableForMs: 10_000,
        // The first base comes from memory (the view, or this writer's own last write): what a
        // hand-over's critical path cannot afford to read from etcd.
        firstBase: () => this.#memoryBase(key.key),
        // Whatever happens next, the caller's view must reach what was read before it looks again.
        onRead: (kv) => (this.lastRevision = Math.max(this.lastRevision, kv.modRevision)),
        onStored: (kv) => {
          this.lastRevision = kv.modRevision;
          this.#last = kv;
        },
      },
    );
  }

  /**
   * Builds this run's update as a compare and a put, for a caller to send inside its own transaction
   * (the hand-over intent's). Based on memory only; a stale base makes the caller's compare fail.
   */
  prepare(mutate: (run: ActionRun) => ActionRun | undefined): { compare: Compare[]; ops: Op[] } | undefined {
    const key = this.keys.action(this.actionUid);
    const kv = this.#memoryBase(key);
    const next = kv ? mutate(decodeKv(actionRunRecord, kv)) : undefined;
    if (!kv || !next || isTerminal(next.status)) return undefined;
    return {
      compare: [{ key, target: 'mod', op: '=', value: kv.modRevision }],
      ops: [{ type: 'put', key, value: JSON.stringify(next) }],
    };
  }

  #memoryBase(key: string): KeyValue | undefined {
    const seen = this.view.get(key);
    return this.#last && (!seen || this.#last.modRevision > seen.modRevision) ? this.#last : seen;
  }
}
