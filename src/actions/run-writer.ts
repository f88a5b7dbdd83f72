/**
 * The master's writes to one run: compare-and-swap on the run's mod revision, guarded by the master's
 * fencing token, one at a time. A DELETE on another node may change the run concurrently (to
 * `cancelling`); the CAS re-reads and re-applies the change on top of it instead of overwriting it.
 *
 * The write that moves a run to a terminal status also deletes `active/<name>` in the same
 * transaction, so the single-instance guard is released exactly when the run ends.
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { MasterRole } from '../cluster/master.js';
import { StoreUnavailableError, TxnOutcomeUnknownError } from '../store/errors.js';
import type { Compare, Op, Store } from '../store/types.js';
import type { ActionRun } from './run.js';
import { isTerminal } from './status.js';

export class RunConflictError extends Error {}

export class RunWriter {
  #queue: Promise<unknown> = Promise.resolve();
  /** The store revision of this writer's latest successful write (0 before any). */
  lastRevision = 0;

  constructor(
    private readonly store: Store,
    private readonly keys: ClusterKeys,
    private readonly master: MasterRole,
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

  async #apply(mutate: (run: ActionRun) => ActionRun | undefined): Promise<ActionRun | undefined> {
    const key = this.keys.action(this.actionUid);
    // A store that is briefly unavailable (an etcd leader election) is retried for this long; a master
    // whose lease is in doubt fences itself well before, and its writes then fail as NotMasterError.
    const deadline = Date.now() + 10_000;
    for (let attempt = 0; attempt < 50; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) return undefined;
      const next = mutate(JSON.parse(kv.value) as ActionRun);
      if (!next) return undefined;
      const compare: Compare[] = [{ key, target: 'mod', op: '=', value: kv.modRevision }];
      const value = JSON.stringify(next);
      const ops: Op[] = [{ type: 'put', key, value }];
      if (isTerminal(next.status)) {
        const active = await this.store.get(this.keys.activeAction(next.name));
        if (active?.value === this.actionUid) {
          compare.push({ key: active.key, target: 'mod', op: '=', value: active.modRevision });
          ops.push({ type: 'delete', key: active.key });
        }
      }
      let result;
      try {
        result = await this.master.fencedTxn({ compare, success: ops });
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || Date.now() > deadline) throw err;
        // The write may have landed (etcd answers "outcome unknown"): the record itself says so.
        const now = await this.store.get(key).catch(() => undefined);
        if (err instanceof TxnOutcomeUnknownError && now !== undefined && now.value === value) {
          this.lastRevision = now.modRevision;
          return next;
        }
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (result.succeeded) {
        this.lastRevision = result.revision;
        return next;
      }
    }
    throw new RunConflictError(`run ${this.actionUid} kept changing under the master's writes`);
  }
}
