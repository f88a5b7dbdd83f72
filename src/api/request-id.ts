/**
 * Request ids: every request carries one, so a single id traces a request from the client to the run
 * it created and to every log line about it. A client's `X-Request-ID` is kept when it is a plausible
 * id (1 to 128 visible ASCII characters, no spaces or control characters, so it cannot forge log lines
 * or smuggle header bytes); anything else is replaced by a fresh UUID.
 */
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
export const MAX_REQUEST_ID_LENGTH = 128;

const ACCEPTABLE = /^[\x21-\x7e]{1,128}$/;

/** The id for a request whose `X-Request-ID` header is `given` (absent, repeated or invalid: a new one). */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && ACCEPTABLE.test(given) ? given : randomUUID();
}
