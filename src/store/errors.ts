/**
 * Every coordination failure as one small class. Both backends throw these, so the layers above
 * never see a driver's own error types.
 */

export class StoreError extends Error {
  /** Whether retrying the same call later may succeed. */
  readonly recoverable: boolean = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The store cannot be reached or cannot commit right now (no quorum, locked, timed out). */
export class StoreUnavailableError extends StoreError {
  override readonly recoverable = true;
}

/** The lease is gone on the server: its keys were deleted. */
export class LeaseLostError extends StoreError {}

/** A watch asked for history that was compacted away. */
export class CompactedError extends StoreError {}

/** The store was closed by this process. */
export class StoreClosedError extends StoreError {}

/**
 * The request is malformed and would be refused by every backend (for example, a transaction that
 * writes one key twice, which etcd rejects). Retrying it cannot help.
 */
export class InvalidRequestError extends StoreError {}

/**
 * A transaction may or may not have been applied: the connection failed or the deadline passed after
 * the request was sent. The caller must re-read before deciding (a unique op id in the value helps).
 */
export class TxnOutcomeUnknownError extends StoreUnavailableError {}

/**
 * A stored record does not have the shape its key promises (typed-key.ts). Not a StoreError: the
 * store answered; what it holds is wrong, and retrying cannot help. Names the key and the first fault.
 */
export class MalformedRecordError extends Error {
  constructor(
    readonly key: string,
    readonly recordType: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`malformed ${recordType} record under ${key}: ${detail}`, options);
    this.name = 'MalformedRecordError';
  }
}
