/**
 * Domain errors that are not answers of their own: they say what went wrong in the cluster's terms,
 * never which HTTP status that is (only the API maps errors to statuses). Class names are stable: the
 * API's error mapping matches on them.
 */
import { BosunError } from './catalogue.js';

/** This node is not (or no longer) the master: a fenced write was refused, or no term is held. */
export class NotMasterError extends Error {
  constructor(message = 'this node is not the master') {
    super(message);
    this.name = 'NotMasterError';
  }
}

/**
 * A compare-and-swap ran out of retries: the record kept changing under concurrent writers
 * (store/cas.ts). A conflict the client may retry, not an unavailable store.
 */
export class ConflictError extends BosunError {
  constructor(what: string) {
    super('concurrent_update', `${what} kept changing under concurrent updates; try again.`);
    this.name = 'ConflictError';
  }
}
