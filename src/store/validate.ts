import { InvalidRequestError } from './errors.js';
import type { Compare, Op, TxnRequest } from './types.js';

/** etcd's default `--max-txn-ops`; the embedded backend enforces it too, so no caller outgrows etcd. */
export const MAX_TXN_OPS = 128;

/**
 * Rejects, on every backend alike, the requests etcd would refuse, so code that works on the embedded
 * store also works on etcd.
 */
export function validateTxn(request: TxnRequest): void {
  if (request.compare.length > MAX_TXN_OPS) {
    throw new InvalidRequestError(`too many compares in one transaction (max ${MAX_TXN_OPS})`);
  }
  for (const c of request.compare) validateCompare(c);
  validateBranch(request.success, 'success');
  if (request.failure) validateBranch(request.failure, 'failure');
}

function validateCompare(c: Compare): void {
  validateKey(c.key);
  if (c.target === 'value') {
    if (typeof c.value !== 'string')
      throw new InvalidRequestError(`a value compare on ${c.key} needs a string`);
  } else if (typeof c.value !== 'number' || !Number.isSafeInteger(c.value)) {
    throw new InvalidRequestError(`a ${c.target} compare on ${c.key} needs an integer`);
  }
}

function validateBranch(ops: readonly Op[], branch: string): void {
  if (ops.length > MAX_TXN_OPS) {
    throw new InvalidRequestError(`too many operations in the ${branch} branch (max ${MAX_TXN_OPS})`);
  }
  const puts = new Set<string>();
  const deletes = new Set<string>();
  for (const op of ops) {
    validateKey(op.key);
    // etcd refuses a put that overlaps another put or a delete in the same branch; two deletes are fine.
    if (puts.has(op.key) || (op.type === 'put' && deletes.has(op.key))) {
      throw new InvalidRequestError(`the ${branch} branch writes ${op.key} twice`);
    }
    (op.type === 'put' ? puts : deletes).add(op.key);
  }
}

function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0)
    throw new InvalidRequestError('keys must be non-empty strings');
}
