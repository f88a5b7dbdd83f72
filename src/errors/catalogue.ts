/**
 * Every error code Bosun answers with, its HTTP status and its default description: the one
 * catalogue behind every `{"error_code", "description"}` body and every failed run's `error_code`.
 * docs/errors.md documents each code; a test fails when the two drift apart.
 *
 * Codes follow Redis Enterprise's where it has one (`invalid_schema`, `unauthorized`,
 * `unauthorized_action`, `user_not_exist`, `name_already_exists`, `internal_error`); the rest are
 * Bosun's own, in the same snake_case style.
 */
export const errorCatalogue = {
  malformed_request: { status: 400, description: 'The request is not well-formed HTTP.' },
  duplicate_header: {
    status: 400,
    description: 'A header that may appear only once appears more than once.',
  },
  invalid_json: { status: 400, description: 'The request body is not valid JSON.' },
  invalid_schema: { status: 400, description: 'An illegal parameter or a parameter with an illegal value.' },
  unsupported_action: { status: 400, description: 'The action is not supported.' },
  invalid_idempotency_key: {
    status: 400,
    description: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.',
  },
  invalid_cursor: {
    status: 400,
    description: 'The cursor is not one this server issued for this query.',
  },
  unauthorized: { status: 401, description: 'Authentication is missing or incorrect.' },
  account_locked: {
    status: 401,
    description: 'The account is locked after too many failed logins.',
  },
  unauthorized_action: { status: 403, description: "The user's role does not allow this request." },
  not_found: { status: 404, description: 'The requested resource does not exist.' },
  action_not_found: {
    status: 404,
    description: 'The action is not running and has no status from a last run.',
  },
  node_not_found: { status: 404, description: 'Node does not exist.' },
  user_not_exist: { status: 404, description: 'User does not exist.' },
  role_not_found: { status: 404, description: 'Role does not exist.' },
  method_not_allowed: { status: 405, description: 'The method is not allowed on this resource.' },
  node_not_active: { status: 406, description: 'The node is not active.' },
  request_timeout: { status: 408, description: 'The request was not received in time.' },
  action_in_progress: { status: 409, description: 'A conflicting action is already in progress.' },
  name_already_exists: { status: 409, description: 'A user with this email or name already exists.' },
  last_admin: { status: 409, description: 'The cluster must keep at least one admin.' },
  concurrent_update: {
    status: 409,
    description: 'The resource kept changing under concurrent updates; try again.',
  },
  action_not_cancellable: {
    status: 409,
    description: 'The run is past its point of no return and can no longer be cancelled.',
  },
  idempotency_key_reused: {
    status: 422,
    description: 'The Idempotency-Key was already used with a different request.',
  },
  body_too_large: { status: 413, description: 'The request body is larger than the server accepts.' },
  unsupported_media_type: { status: 415, description: 'The request body must be application/json.' },
  too_many_requests: { status: 429, description: 'Too many failed logins from this client; retry later.' },
  expectation_failed: {
    status: 417,
    description: 'The Expect header is not supported; the only expectation accepted is 100-continue.',
  },
  headers_too_large: { status: 431, description: 'The request headers are larger than the server accepts.' },
  internal_error: { status: 500, description: 'An internal error occurred.' },
  store_unavailable: { status: 503, description: 'The cluster store cannot be reached; try again shortly.' },
  server_busy: { status: 503, description: 'The node is too busy checking passwords; retry shortly.' },
  node_stopping: {
    status: 503,
    description: 'This node is shutting down; send the request to another node.',
  },
  handover_timeout: { status: 500, description: 'The target node did not take over as master in time.' },
  handover_target_lost: {
    status: 500,
    description: 'The target node left the cluster during the hand-over.',
  },
  master_lost: { status: 500, description: 'The master running the action was lost before it finished.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error that carries a catalogue code; the API renders it as a Redis Enterprise error body. */
export class BosunError extends Error {
  readonly status: number;
  /** Sent as `Retry-After` (seconds) with the error answer. */
  retryAfterSeconds: number | undefined;
  /**
   * Additive fields of the error body, next to `error_code` and `description`: a 409 names the run
   * that blocks the request (docs/errors.md, "action_in_progress").
   */
  details: Readonly<Record<string, unknown>> | undefined;
  constructor(
    readonly code: ErrorCode,
    description?: string,
    options?: ErrorOptions & { details?: Readonly<Record<string, unknown>> },
  ) {
    super(description ?? errorCatalogue[code].description, options);
    this.name = 'BosunError';
    this.status = errorCatalogue[code].status;
    this.details = options?.details;
  }
}
