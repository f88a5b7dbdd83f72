/**
 * The writes any node makes for a client: submitting a run, cancelling it, removing a finished run's
 * status. They are not master writes (any node answers any request), so they are not fenced; they are
 * compare-and-swap transactions, which is what makes "exactly one of N concurrent POSTs wins" hold
 * across nodes.
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterState } from '../cluster/state.js';
import type { ClusterView } from '../cluster/view.js';
import { BosunError } from '../errors/catalogue.js';
import { casLoop } from '../store/cas.js';
import { TxnOutcomeUnknownError } from '../store/errors.js';
import { retry } from '../lib/retry.js';
import { decodeKv, putRecord, readRecord, unchangedSince } from '../store/typed-key.js';
import type { Compare, Op, Store } from '../store/types.js';
import { actionInProgress, notCancellable } from './conflict.js';
import type { ActionHandler } from './handler.js';
import type { HandlerRegistry } from './registry.js';
import { actionRunRecord, newRun, requestCancel, runKey, type ActionRun } from './run.js';
import { isTerminal } from './status.js';

/** More conditions and writes for a submit's own transaction (src/actions/idempotency.ts). */
export interface SubmitClaim {
  readonly compare: readonly Compare[];
  ops(run: ActionRun): Op[];
  /** The transaction failed: the run to answer with instead of a 409, or undefined. May throw. */
  onLost(): Promise<ActionRun | undefined>;
}

/** Validation verdicts read from cluster membership, which the view may hold a moment late. */
const membershipVerdicts: ReadonlySet<string> = new Set(['node_not_found', 'node_not_active']);

export type CancelResult = 'cancelled' | 'cancelling' | 'removed';

/** What the submitter works with; the node builds it (node/node.ts). */
export interface SubmitterDeps {
  readonly store: Store;
  readonly view: ClusterView;
  readonly keys: ClusterKeys;
  /** What a handler's validation reads of the cluster. */
  readonly state: ClusterState;
  readonly registry: HandlerRegistry;
}

export class ActionSubmitter {
  private readonly store: Store;
  private readonly view: ClusterView;
  private readonly keys: ClusterKeys;
  private readonly state: ClusterState;
  private readonly registry: HandlerRegistry;

  constructor(deps: SubmitterDeps) {
    ({
      store: this.store,
      view: this.view,
      keys: this.keys,
      state: this.state,
      registry: this.registry,
    } = deps);
  }

  /**
   * The handler's validation; when it rejects a node as unknown or inactive, once more against a view
   * brought level with the store. Those verdicts come from membership, which a view a moment behind
   * gets wrong for a node that joined or renewed elsewhere (cluster/state.ts, settleMembers).
   */
  async #validate(handler: ActionHandler<unknown>, body: unknown): Promise<unknown> {
    try {
      return handler.validate(body, this.state);
    } catch (err) {
      if (!(err instanceof BosunError) || !membershipVerdicts.has(err.code)) throw err;
    }
    await this.state.settleMembers();
    return handler.validate(body, this.state);
  }

  /** Validates and stores a new queued run; 409 while another run of that name is queued or in flight. */
  async submit(
    name: string,
    body: unknown,
    requester: string | undefined,
    requestId?: string,
    claim?: SubmitClaim,
  ): Promise<ActionRun> {
    const handler = this.registry.get(name);
    if (!handler) {
      throw new BosunError(
        'unsupported_action',
        `Unknown cluster action "${name}". Supported: ${this.registry.names().join(', ')}.`,
      );
    }
    const params = (await this.#validate(handler, body ?? {})) as Record<string, unknown>;
    const run = newRun(name, params, requester, requestId);
    let result;
    try {
      result = await this.store.txn({
        compare: [
          { key: this.keys.activeAction(name), target: 'create', op: '=', value: 0 },
          ...(claim?.compare ?? []),
        ],
        success: [
          { type: 'put', key: this.keys.action(run.action_uid), value: JSON.stringify(run) },
          { type: 'put', key: this.keys.clusterAction(name), value: run.action_uid },
          { type: 'put', key: this.keys.activeAction(name), value: run.action_uid },
          ...(claim?.ops(run) ?? []),
        ],
      });
    } catch (err) {
      // The run's uid is unique: if the store has it, this very submission landed.
      if (!(err instanceof TxnOutcomeUnknownError)) throw err;
      const stored = await this.#reread(this.keys.action(run.action_uid));
      if (!stored) throw err;
      result = { succeeded: true, revision: stored.modRevision };
    }
    if (!result.succeeded) {
      const replay = await claim?.onLost();
      if (replay) return replay;
      throw await this.#inProgress(name);
    }
    await this.view.waitFor(result.revision);
    return run;
  }

  /** Whether a handler serves `name`: only such a name can ever have a run (submit refuses others). */
  supports(name: string): boolean {
    return this.registry.get(name) !== undefined;
  }

  /** The 409 for a lost race: names the run holding the guard, as the store has it now. */
  async #inProgress(name: string): Promise<BosunError> {
    const holderUid = (await this.store.get(this.keys.activeAction(name)))?.value;
    const kv = holderUid === undefined ? undefined : await this.store.get(this.keys.action(holderUid));
    return actionInProgress(name, kv ? decodeKv(actionRunRecord, kv) : undefined, holderUid);
  }

  /** Reads a key, retrying briefly: after an unclear write the store is often mid-election. */
  #reread(key: string): Promise<{ modRevision: number } | undefined> {
    return retry(
      () => this.store.get(key),
      (_err, attempt) => attempt < 10,
    );
  }

  /**
   * DELETE semantics (docs/re-contract.md, "Cluster actions"): cancel a queued or running run, or remove a
   * finished run's status from the cluster-actions view. 404 when there is none.
   */
  cancel(name: string): Promise<{ result: CancelResult; run: ActionRun }> {
    const notFound = (): BosunError =>
      new BosunError('action_not_found', `No ${name} action is running or has a status to remove.`);
    return casLoop(
      this.store,
      async () => {
        const pointer = await this.store.get(this.keys.clusterAction(name));
        if (!pointer) throw notFound();
        const key = runKey(this.keys, pointer.value);
        const stored = await readRecord(this.store, key);
        if (!stored) throw notFound();
        const { kv, value: run } = stored;
        const unchanged = unchangedSince(key.key, kv);
        if (isTerminal(run.status)) {
          return {
            compare: [unchanged, unchangedSince(pointer.key, pointer)],
            ops: [{ type: 'delete', key: pointer.key }],
            result: { result: 'removed', run },
          };
        }
        const move = await this.#cancelMove(name, run);
        if ('done' in move) return move;
        return {
          compare: [unchanged],
          ops: [putRecord(key, move.next), ...move.ops],
          result: { result: move.result, run: move.next },
        };
      },
      { what: `The ${name} action`, onWritten: (revision) => this.view.waitFor(revision) },
    );
  }

  /** The cancel move for a run that has not ended, and what else the cancel writes. */
  async #cancelMove(
    name: string,
    run: ActionRun,
  ): Promise<
    { next: ActionRun; result: CancelResult; ops: Op[] } | { done: { result: CancelResult; run: ActionRun } }
  > {
    const request = requestCancel(run);
    if (!request) throw new Error(`unexpected status ${run.status}`);
    // Past the point of no return a cancel cannot be kept: say so rather than accept it.
    if (request.result === 'not_cancellable') throw notCancellable(run);
    const { result, run: next } = request;
    if (!next) return { done: { result, run } };
    const ops: Op[] = [];
    if (result === 'cancelled') {
      const active = await this.store.get(this.keys.activeAction(name));
      if (active?.value === run.action_uid) ops.push({ type: 'delete', key: active.key });
    }
    return { next, result, ops };
  }
}
