/**
 * Compare-and-swap, written once (docs/design.md, "Retries"): read, decide, write guarded by
 * "unchanged since read", and on a failed compare read again and decide again, up to the retry
 * policy's attempts. Running out is a ConflictError (the record kept changing), never an unavailable
 * store. As etcd3's `stm.ts` does, every read-modify-write in the project goes through here.
 */
import { setTimeout as delay } from 'node:timers/promises';

import { ConflictError } from '../errors/domain.js';
import { backoff, retryPolicy, type RetryPolicy } from '../lib/retry.js';
import { StoreUnavailableError, TxnOutcomeUnknownError } from './errors.js';
import { unchangedSince, type Key, type StoredRecord } from './typed-key.js';
import type { Compare, KeyValue, Op, Store, TxnRequest, TxnResult } from './types.js';

/** A write decided from what was read. */
export interface CasWrite<R> {
  /** The transaction's compares (casUpdate adds "the key is unchanged since read" itself). */
  readonly compare: readonly Compare[];
  readonly ops: readonly Op[];
  /** What the loop resolves with once the transaction succeeds. */
  readonly result: R;
  /**
   * After the compares failed: resolve a final answer (or throw a domain error) when the cause is
   * not a concurrent change worth another attempt; resolve undefined to read again.
   */
  readonly onConflict?: () => Promise<R | undefined>;
  /** After an unknown outcome: whether the write landed after all (then the loop resolves `result`). */
  readonly landed?: () => Promise<boolean>;
}

/** What one attempt decided: a write, or an answer without writing. */
export type CasDecision<R> = CasWrite<R> | { readonly done: R };

export interface CasOptions {
  /** Names the record in the conflict error ("User 3", "The run of x"). */
  readonly what: string;
  readonly policy?: RetryPolicy;
  /** Sends the transaction (default: the store's own); the master's writer sends it fenced. */
  readonly txn?: (request: TxnRequest) => Promise<TxnResult>;
  /**
   * How long an unreachable store is ridden out, in ms, with the policy's backoff (default 0: the
   * error goes to the caller at once, as a client request wants). Background writers set it.
   */
  readonly unavailableForMs?: number;
  /** Awaited with each successful transaction's revision (a view's read-your-writes wait). */
  readonly onWritten?: (revision: number) => unknown;
}

/** Runs attempts until one writes, answers, or the policy's attempts run out (ConflictError). */
export async function casLoop<R>(
  store: Store,
  attempt: (n: number) => Promise<CasDecision<R>>,
  options: CasOptions,
): Promise<R> {
  const policy = options.policy ?? retryPolicy;
  const send = options.txn ?? ((request: TxnRequest) => store.txn(request));
  const until = Date.now() + (options.unavailableForMs ?? 0);
  for (let n = 0; n < policy.attempts; n++) {
    const decision = await attempt(n);
    if ('done' in decision) return decision.done;
    let result: TxnResult;
    try {
      result = await send({ compare: decision.compare, success: decision.ops });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) || Date.now() > until) throw err;
      if (err instanceof TxnOutcomeUnknownError && (await decision.landed?.().catch(() => false))) {
        return decision.result;
      }
      await delay(backoff(n, policy));
      continue;
    }
    if (result.succeeded) {
      await options.onWritten?.(result.revision);
      return decision.result;
    }
    const final = await decision.onConflict?.();
    if (final !== undefined) return final;
  }
  throw new ConflictError(options.what);
}

/** What a mutation of one record decides: its writes (the record's own among them), or an answer. */
export type CasMutation<R> =
  | {
      readonly compare?: readonly Compare[];
      readonly ops: readonly Op[];
      readonly result: R;
      readonly onConflict?: () => Promise<R | undefined>;
    }
  | { readonly done: R };

export interface CasUpdateOptions extends CasOptions {
  /**
   * The first attempt's base from memory, saving a round trip (a view, a writer's own last write).
   * A stale base costs one failed compare, never a wrong write; later attempts read the store.
   */
  readonly firstBase?: () => KeyValue | undefined;
  /** Called with every key-value read as a base (the run writer tracks what its view must reach). */
  readonly onRead?: (kv: KeyValue) => void;
  /** Called with the record's key-value as stored by the write that succeeded (or landed). */
  readonly onStored?: (kv: KeyValue) => void;
}

/**
 * The read-modify-write of one typed record: reads it (checked against its schema), lets `mutate`
 * decide, and writes with "unchanged since read" added to the compares. After an unknown outcome,
 * a record now holding exactly the value this attempt put counts as written.
 */
export async function casUpdate<T, R>(
  store: Store,
  key: Key<T>,
  mutate: (current: StoredRecord<T> | undefined, attempt: number) => CasMutation<R> | Promise<CasMutation<R>>,
  options: CasUpdateOptions,
): Promise<R> {
  // The latest attempt's base and its put of the record, for `onStored`.
  let base: KeyValue | undefined;
  let put: Extract<Op, { type: 'put' }> | undefined;
  const onWritten = async (revision: number): Promise<void> => {
    await options.onWritten?.(revision);
    if (put) {
      const created = base?.createRevision ?? revision;
      const version = (base?.version ?? 0) + 1;
      options.onStored?.({
        key: put.key,
        value: put.value,
        createRevision: created,
        modRevision: revision,
        version,
        lease: put.lease,
      });
    }
  };
  const landed = async (): Promise<boolean> => {
    const now = await store.get(key.key);
    if (!put || now?.value !== put.value) return false;
    options.onStored?.(now);
    return true;
  };
  return casLoop(
    store,
    async (n) => {
      base = (n === 0 ? options.firstBase?.() : undefined) ?? (await store.get(key.key));
      if (base) options.onRead?.(base);
      const decision = await mutate(
        base ? { kv: base, value: key.type.decode(base.key, base.value) } : undefined,
        n,
      );
      if ('done' in decision) return decision;
      put = decision.ops.find(
        (op): op is Extract<Op, { type: 'put' }> => op.type === 'put' && op.key === key.key,
      );
      return { ...decision, compare: [unchangedSince(key.key, base), ...(decision.compare ?? [])], landed };
    },
    { ...options, onWritten },
  );
}
