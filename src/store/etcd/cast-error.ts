/**
 * Maps what etcd3 and grpc-js throw onto the store's own errors, and decides what may be retried.
 *
 * The distinction that matters is whether a failed request can have been applied. etcd3's default
 * policy retries writes on timeouts and dropped connections, so a retried transaction could apply
 * twice or report `succeeded: false` for its own earlier success (docs/design.md, "etcd client
 * pitfalls", 5). Here a write is retried only when it certainly never reached raft; any other
 * failure of a write becomes TxnOutcomeUnknownError, and the caller re-reads.
 */
import {
  ClientClosedError,
  EtcdLeaseInvalidError,
  GRPCInvalidArgumentError,
  isRecoverableError,
} from 'etcd3';

import {
  CompactedError,
  InvalidRequestError,
  LeaseLostError,
  StoreClosedError,
  StoreError,
  StoreUnavailableError,
  TxnOutcomeUnknownError,
} from '../errors.js';
import { HostUnavailableError } from './policies.js';

/** Failures that happen before a request is sent to etcd, or that etcd answers before proposing it. */
const NOT_SENT = [
  'No connection established', // grpc-js: the channel to that member is down, the call was not started
  'ECONNREFUSED',
  'etcdserver: too many requests', // refused before proposing
  'raft proposal dropped', // this member knew no leader; raft dropped the proposal
  'etcdserver: not capable',
];

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether the request certainly had no effect, so even a write may be sent again. */
export function notSent(err: unknown): boolean {
  if (err instanceof HostUnavailableError) return true;
  if ((err as { isBrokenCircuitError?: unknown } | null)?.isBrokenCircuitError === true) return true;
  const message = messageOf(err);
  return NOT_SENT.some((m) => message.includes(m));
}

/** Whether the failure is about reaching etcd (so a read may be retried), not about the request. */
export function transient(err: unknown): boolean {
  if (notSent(err)) return true;
  if (!(err instanceof Error)) return false;
  if (isRecoverableError(err)) return true;
  return /etcdserver: (leader changed|request timed out|no leader|timed out waiting for read index)/.test(
    err.message,
  );
}

/**
 * The store error for `err`. `write` says whether the failed call was a transaction, for which a
 * transient failure means the outcome is unknown.
 */
export function castError(err: unknown, what: string, write: boolean): StoreError {
  if (err instanceof StoreError) return err;
  const message = `${what}: ${messageOf(err)}`;
  if (err instanceof ClientClosedError) return new StoreClosedError(message, { cause: err });
  if (err instanceof EtcdLeaseInvalidError || messageOf(err).includes('requested lease not found')) {
    return new LeaseLostError(message, { cause: err });
  }
  if (messageOf(err).includes('required revision has been compacted')) {
    return new CompactedError(message, { cause: err });
  }
  if (
    err instanceof GRPCInvalidArgumentError ||
    /duplicate key given in txn|too many operations in txn/.test(message)
  ) {
    return new InvalidRequestError(message, { cause: err });
  }
  if (notSent(err)) return new StoreUnavailableError(message, { cause: err });
  if (transient(err)) {
    return write
      ? new TxnOutcomeUnknownError(`${message} (the transaction may have been applied)`, { cause: err })
      : new StoreUnavailableError(message, { cause: err });
  }
  return new StoreError(message, { cause: err });
}
