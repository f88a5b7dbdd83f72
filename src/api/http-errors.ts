/**
 * The one place where domain errors become HTTP answers (docs/design.md, "Layers"): each catalogue
 * code's status, and which code each domain error class is answered with. Domain code throws domain
 * errors (errors/catalogue.ts, store/errors.ts, cluster/master.ts); only the API knows statuses.
 */
import { NotMasterError } from '../errors/domain.js';
import { BosunError, type ErrorCode } from '../errors/catalogue.js';
import { StoreError } from '../store/errors.js';

/** The HTTP status each catalogue code is answered with (docs/errors.md lists them too). */
export const httpStatus = {
  malformed_request: 400,
  duplicate_header: 400,
  invalid_json: 400,
  invalid_schema: 400,
  unsupported_action: 400,
  invalid_idempotency_key: 400,
  invalid_cursor: 400,
  unauthorized: 401,
  account_locked: 401,
  unauthorized_action: 403,
  not_found: 404,
  action_not_found: 404,
  node_not_found: 404,
  user_not_exist: 404,
  role_not_found: 404,
  method_not_allowed: 405,
  node_not_active: 406,
  request_timeout: 408,
  action_in_progress: 409,
  name_already_exists: 409,
  last_admin: 409,
  concurrent_update: 409,
  action_not_cancellable: 409,
  idempotency_key_reused: 422,
  body_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  expectation_failed: 417,
  headers_too_large: 431,
  internal_error: 500,
  store_unavailable: 503,
  server_busy: 503,
  node_stopping: 503,
  handover_timeout: 500,
  handover_target_lost: 500,
  master_lost: 500,
} as const satisfies Record<ErrorCode, number>;

export function statusOf(code: ErrorCode): number {
  return httpStatus[code];
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Domain errors that are not BosunErrors, and the code each is answered with: first match wins. A
 * store out of reach, or a master role lost mid-request, is a 503 the client may retry.
 */
const domainErrorCodes: readonly (readonly [ErrorClass, ErrorCode, string])[] = [
  [StoreError, 'store_unavailable', 'The cluster store is unavailable: '],
  [NotMasterError, 'store_unavailable', 'The cluster store is unavailable: '],
];

/** The code and description a domain error is answered with, or undefined when it is not one. */
export function classifyDomainError(err: Error): { code: ErrorCode; description: string } | undefined {
  if (err instanceof BosunError) return { code: err.code, description: err.message };
  for (const [type, code, prefix] of domainErrorCodes) {
    if (err instanceof type) return { code, description: prefix + err.message };
  }
  return undefined;
}
