/** Shared checks for the API tests: the error body contract and small request helpers. */
import assert from 'node:assert/strict';

import type { LightMyRequestResponse } from 'fastify';

import { httpStatus } from '../../src/api/http-errors.js';
import { errorCatalogue, type ErrorCode } from '../../src/errors/catalogue.js';

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalogue, value);
}

/**
 * The additive fields an error about a run may carry: the blocking run (src/actions/conflict.ts).
 * Every other error body has exactly `error_code` and `description`.
 */
export const runFields: Partial<Record<ErrorCode, readonly string[]>> = {
  action_in_progress: ['action_uid', 'progress', 'status'],
  action_not_cancellable: ['action_uid', 'cancellable_reason', 'progress', 'status'],
  idempotency_key_reused: ['action_uid'],
};

/**
 * Asserts a Redis Enterprise error answer: the status, a JSON body with exactly `error_code` and
 * `description` (and, for an error about a run, the run's fields), a catalogue code whose status
 * matches, and a non-empty description.
 */
export function expectError(res: LightMyRequestResponse, status: number, code?: ErrorCode): ErrorCode {
  assert.equal(res.statusCode, status, `expected HTTP ${status}, got ${res.statusCode}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json<Record<string, unknown>>();
  assert.ok(isErrorCode(body.error_code), `${String(body.error_code)} is not in the error catalogue`);
  const extra = runFields[body.error_code] ?? [];
  assert.deepEqual(
    Object.keys(body).sort(),
    ['description', 'error_code', ...extra].sort(),
    `error body keys: ${res.body}`,
  );
  assert.equal(httpStatus[body.error_code], status, `${body.error_code} is catalogued with another status`);
  assert.equal(typeof body.description, 'string');
  assert.ok((body.description as string).length > 0, 'description is empty');
  if (code !== undefined) assert.equal(body.error_code, code);
  return body.error_code;
}

/** Retries `read` until `done` holds; fails with the last value after `limit` tries (about 10 s). */
export async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  limit = 1000,
): Promise<T> {
  let value = await read();
  for (let i = 0; i < limit && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  assert.ok(done(value), `timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
  return value;
}
