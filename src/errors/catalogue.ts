/**
 * Every error code Bosun answers with and its default description: the one catalogue behind every
 * `{"error_code", "description"}` body and every failed run's `error_code`. These are domain codes:
 * which HTTP status each is answered with is the API's business (api/http-errors.ts), and
 * docs/errors.md documents both; a test fails when they drift apart.
 *
 * Codes follow Redis Enterprise's where it has one (`invalid_schema`, `unauthorized`,
 * `unauthorized_action`, `user_not_exist`, `name_already_exists`, `internal_error`); the rest are
 * Bosun's own, in the same snake_case style.
 */
export const errorCatalogue = {
  malformed_request: { description: 'The request is not well-formed HTTP.' },
  duplicate_header: { description: 'A header that may appear only once appears more than once.' },
  invalid_json: { description: 'The request body is not valid JSON.' },
  invalid_schema: { description: 'An illegal parameter or a parameter with an illegal value.' },
  unsupported_action: { description: 'The action is not supported.' },
  invalid_idempotency_key: {
    description: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.',
  },
  invalid_cursor: { description: 'The cursor is not one this server issued for this query.' },
  unauthorized: { description: 'Authentication is missing or incorrect.' },
  account_locked: { description: 'The account is locked after too many failed logins.' },
  unauthorized_action: { description: "The user's role does not allow this request." },
  not_found: { description: 'The requested resource does not exist.' },
  action_not_found: { description: 'The action is not running and has no status from a last run.' },
  node_not_found: { description: 'Node does not exist.' },
  user_not_exist: { description: 'User does not exist.' },
  role_not_found: { description: 'Role does not exist.' },
  method_not_allowed: { description: 'The method is not allowed on this resource.' },
  node_not_active: { description: 'The node is not active.' },
  request_timeout: { description: 'The request was not received in time.' },
  action_in_progress: { description: 'A conflicting action is already in progress.' },
  name_already_exists: { description: 'A user with this email or name already exists.' },
  last_admin: { description: 'The cluster must keep at least one admin.' },
  concurrent_update: {
    description: 'The resource kept changing under concurrent updates; try again.',
  },
  action_not_cancellable: {
    description: 'The run is past its point of no return and can no longer be cancelled.',
  },
  idempotency_key_reused: { description: 'The Idempotency-Key was already used with a different request.' },
  body_too_large: { description: 'The request body is larger than the server accepts.' },
  unsupported_media_type: { description: 'The request body must be application/json.' },
  too_many_requests: { description: 'Too many failed logins from this client; retry later.' },
  expectation_failed: {
    description: 'The Expect header is not supported; the only expectation accepted is 100-continue.',
  },
  headers_too_large: { description: 'The request headers are larger than the server accepts.' },
  internal_error: { description: 'An internal error occurred.' },
  store_unavailable: { description: 'The cluster store cannot be reached; try again shortly.' },
  server_busy: { description: 'The node is too busy checking passwords; retry shortly.' },
  node_stopping: { description: 'This node is shutting down; send the request to another node.' },
  handover_timeout: { description: 'The target node did not take over as master in time.' },
  handover_target_lost: { description: 'The target node left the cluster during the hand-over.' },
  master_lost: { description: 'The master running the action was lost before it finished.' },
} as const satisfies Record<string, { description: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * The codes that say the request itself is wrong (its form, its fields, the action it names),
 * whatever the cluster's state: a dry run reports every other refusal as a failed check, and these
 * as the refusal they are (actions/preflight.ts). The API answers all of them 400; a test checks it.
 */
export const badRequestCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'malformed_request',
  'duplicate_header',
  'invalid_json',
  'invalid_schema',
  'unsupported_action',
  'invalid_idempotency_key',
  'invalid_cursor',
]);

/**
 * A domain error that carries a catalogue code and says what went wrong; it knows nothing of HTTP
 * (the API maps its code to a status, api/http-errors.ts).
 */
export class BosunError extends Error {
  /** When trying again makes sense, in seconds (the API sends it as `Retry-After`). */
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
    this.details = options?.details;
  }
}
