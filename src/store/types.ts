/**
 * The store contract: a small, etcd-shaped key-value store that every layer above is written against.
 *
 * Terminology:
 * - revision: a store-wide counter that grows by one for every transaction that changes something.
 *   Every key remembers the revision that created it and the one that last modified it.
 * - lease: a time-to-live handle. Keys put under a lease vanish when the lease expires or is revoked.
 *   That is how a dead process's records (node liveness, master key, hand-over intent) disappear.
 * - watch: a stream of changes under a prefix, starting from a revision, in revision order.
 *
 * Deliberately left out: connections, sessions and the backends' own transaction or revision types.
 * Revisions are plain numbers (etcd's int64 fits until 2^53, far beyond any real cluster's life).
 */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** The lease the key is bound to, or undefined. */
  readonly lease: string | undefined;
}

export type CompareTarget = 'value' | 'mod' | 'create' | 'version';
export type CompareOp = '=' | '!=' | '<' | '>';

/**
 * One condition of a transaction. A missing key has create = mod = version = 0 and never matches a
 * value compare, exactly as in etcd.
 */
export interface Compare {
  readonly key: string;
  readonly target: CompareTarget;
  readonly op: CompareOp;
  readonly value: number | string;
}

export type Op =
  | {
      readonly type: 'put';
      readonly key: string;
      readonly value: string;
      readonly lease?: string | undefined;
    }
  | { readonly type: 'delete'; readonly key: string };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly Op[];
  readonly failure?: readonly Op[];
}

export interface TxnResult {
  readonly succeeded: boolean;
  /** The store revision after the transaction (the new one when it wrote). */
  readonly revision: number;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** The revision the range was read at. */
  readonly revision: number;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /**
   * For a delete, the key with an empty value and the delete's revision as modRevision; its other
   * fields (createRevision, version, lease) are not specified and differ between backends.
   */
  readonly kv: KeyValue;
}

export interface WatchBatch {
  /** The revision all events in the batch belong to. */
  readonly revision: number;
  readonly events: readonly WatchEvent[];
}

export interface WatchHandlers {
  /** Called in revision order, once per revision, for every change under the prefix. */
  readonly onBatch: (batch: WatchBatch) => void;
  /**
   * The watch cannot continue from where it was (history compacted, connection reset past what can
   * be replayed). The watcher is closed; the caller re-lists and watches again.
   */
  readonly onError: (err: Error) => void;
  /**
   * Every change up to `revision` has been delivered (an answer to `requestProgress`, or a backend's
   * own report). Lets a watcher of a quiet prefix know it is current with the store, whose revision
   * also counts changes outside the prefix.
   */
  readonly onProgress?: (revision: number) => void;
  /**
   * The watch's connection broke and is being resumed: changes may arrive late until the next
   * `onProgress`. (Nothing is lost: the watch resumes from the next undelivered revision.)
   */
  readonly onInterrupted?: () => void;
}

export interface Watcher {
  close(): Promise<void>;
  /** Asks for an `onProgress` report once everything up to the store's current revision is delivered. */
  requestProgress(): void;
}

export interface LeaseEvents {
  /** The lease is gone on the server (expired or revoked by someone else). Fired at most once. */
  lost: (err: Error) => void;
  /**
   * A keep-alive round trip succeeded. `revision` is the store's revision when the server answered
   * (0 when unknown); `resumed` says the lease had been in doubt (past safeUntil) until this answer;
   * `roundTripMs` is the round trip's duration (for metrics).
   */
  renewed: (expiresAtLocal: number, revision: number, resumed: boolean, roundTripMs: number) => void;
  /** A keep-alive round trip failed or went unanswered; the lease lives on until `safeUntil`. */
  missed: (err: unknown) => void;
}

export interface Lease {
  readonly id: string;
  readonly ttlMs: number;
  /**
   * The latest local time by which the lease is certainly still alive on the server: the send time of
   * the last acknowledged keep-alive plus the TTL. Self-fencing compares against this, because a
   * backend may learn of a lost lease only after it has already expired (etcd3's `lost` fires late).
   */
  readonly safeUntil: number;
  readonly lost: boolean;
  on<E extends keyof LeaseEvents>(event: E, listener: LeaseEvents[E]): this;
  off<E extends keyof LeaseEvents>(event: E, listener: LeaseEvents[E]): this;
  /** Revokes the lease on the server, deleting its keys at once. */
  revoke(): Promise<void>;
  /** Stops keep-alives without revoking: the lease runs out on its own. */
  release(): void;
  /**
   * Gives the lease up for good: stops keep-alives at once and revokes it in the background, retrying
   * until the server confirms (or the store closes). Resolves once it is certainly gone, or never
   * while the store stays unreachable. `lost` does not fire: the caller chose this.
   */
  abandon(): Promise<void>;
}

/** What a backend can do; layers above branch on these, never on the backend's name. */
export interface StoreProfile {
  readonly name: 'sqlite' | 'etcd';
  /** Whether reads go through a quorum (distributed) or one local file (embedded). */
  readonly kind: 'embedded' | 'distributed';
  /** The smallest lease TTL the backend honours, in ms. */
  readonly minLeaseTtlMs: number;
}

export interface Store {
  readonly profile: StoreProfile;
  get(key: string): Promise<KeyValue | undefined>;
  /** All keys that start with `prefix`, sorted by key, read at one revision. */
  range(prefix: string): Promise<RangeResult>;
  /**
   * Runs the compares and then one branch, atomically. Rejects with:
   * - InvalidRequestError for what etcd refuses: a key put twice (or put and deleted) in one branch, more
   *   than 128 compares or ops in a branch, a value compare without a string;
   * - LeaseLostError when a put names a lease that is gone; nothing of the transaction is applied;
   * - StoreUnavailableError when the store cannot be reached. Its subclass TxnOutcomeUnknownError means
   *   the request may have been applied all the same: re-read before deciding.
   */
  txn(request: TxnRequest): Promise<TxnResult>;
  grantLease(ttlMs: number): Promise<Lease>;
  /**
   * Revokes any lease by id, whoever holds it, deleting its keys at once (the holder learns of it at
   * its next keep-alive and fires `lost`). A lease already gone is no error. Used by the fast
   * failover to clear a dead master's records; the take-over itself is a fenced transaction.
   */
  revokeLease(id: string): Promise<void>;
  /**
   * Watches keys under `prefix`, delivering every change with revision >= fromRevision (at least 1). To
   * watch from "now", pass the revision of a range or txn result plus one: list, then watch, misses
   * nothing. A closed store throws StoreClosedError at once.
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher;
  close(): Promise<void>;
}
