/** The two ways a request fails: the server answered with an error, or it could not be reached. */

/** The server answered with a status of 400 or more (its body is `{"error_code", "description"}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly description: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${errorCode}: ${description}`);
    this.name = 'ApiError';
  }

  /** 401 (no or wrong credentials) or 403 (the role does not allow it). */
  get isAuthError(): boolean {
    return this.status === 401 || this.status === 403;
  }

  get body(): { error_code: string; description: string } {
    return { error_code: this.errorCode, description: this.description };
  }
}

export type ConnectionFailure =
  /** Refused, reset, unreachable or unresolvable. */
  | 'network'
  /** No answer within the request timeout. */
  | 'timeout'
  /** The HTTPS certificate is not trusted, or does not match the pinned fingerprint. */
  | 'tls'
  /** Something answered, but not with the API's JSON. */
  | 'protocol';

/** The request did not get an answer from the API. */
export class ConnectionError extends Error {
  constructor(
    readonly url: string,
    readonly failure: ConnectionFailure,
    message: string,
    /** The system or TLS error code, such as `ECONNREFUSED` or `DEPTH_ZERO_SELF_SIGNED_CERT`. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}
