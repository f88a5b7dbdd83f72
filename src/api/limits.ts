/**
 * Every bound the API puts on a request, in one place, each documented in README.md ("Limits") and
 * docs/decisions.md. The bounds are checked before anything walks the input, so no request can cost
 * more than they allow, and an input past one gets a catalogue error rather than a 500 or a hang.
 */

/** The largest request body read, in bytes; a larger one is a 413 `body_too_large`. */
export const BODY_LIMIT = 1024 * 1024;

/**
 * How deeply a JSON body may nest (objects and arrays together). No Bosun request needs more than 2;
 * the margin keeps clients that wrap bodies working. Checked on the raw text before it is parsed.
 */
export const MAX_JSON_DEPTH = 32;

/** Node's default, made explicit: the request line and headers together; more is a 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The longest path segment the router matches. Above Fastify's default of 100 so that every action
 * name the schema allows (128 characters) reaches schema validation, which answers a precise 400.
 */
export const MAX_PARAM_LENGTH = 1024;

/** Error descriptions are cut to this many characters, whatever they quote. */
export const MAX_DESCRIPTION_CHARS = 512;

/** Timeouts and the connection limit of a node's HTTP and HTTPS listeners. */
export interface ListenerLimits {
  /** From the first byte of a request until its headers are all in; then a 408. */
  readonly headersTimeoutMs: number;
  /** From the first byte of a request until its body is all in; then a 408. */
  readonly requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open between requests. */
  readonly keepAliveTimeoutMs: number;
  /** A connection that moves no bytes either way for this long is closed (a client not reading). */
  readonly idleTimeoutMs: number;
  /** How long a TLS handshake may take on the HTTPS listener. */
  readonly tlsHandshakeTimeoutMs: number;
  /** Open connections per node, HTTP and HTTPS together; more are closed at once. */
  readonly maxConnections: number;
}

export const defaultListenerLimits: ListenerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  tlsHandshakeTimeoutMs: 10_000,
  maxConnections: 1024,
};
