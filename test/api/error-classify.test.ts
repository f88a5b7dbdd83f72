/**
 * Every Fastify error that can reach a client (each FST_ERR_* code with a 4xx status) maps to a
 * catalogue code with a 4xx status, never to `internal_error`; and no description outgrows its bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { errorCodes, type FastifyError } from 'fastify';

import { classify } from '../../src/api/error-handler.js';
import { httpStatus } from '../../src/api/http-errors.js';
import { NotMasterError } from '../../src/errors/domain.js';
import { badRequestCodes, BosunError, type ErrorCode } from '../../src/errors/catalogue.js';
import { StoreUnavailableError } from '../../src/store/errors.js';

describe('classify: Fastify errors to catalogue codes', () => {
  const clientErrors = Object.entries(errorCodes)
    .map(([name, Ctor]) => {
      const err = new (Ctor as unknown as new (...args: string[]) => FastifyError)('a', 'b', 'c');
      return { name, err };
    })
    .filter(({ err }) => typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500);

  it('finds the client errors to check', () => {
    const names = clientErrors.map((e) => e.name);
    for (const name of [
      'FST_ERR_BAD_URL',
      'FST_ERR_MAX_PARAM_LENGTH',
      'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
    ]) {
      assert.ok(names.includes(name), name);
    }
  });

  it('maps each to a catalogue client error', () => {
    for (const { name, err } of clientErrors) {
      const { code } = classify(err);
      const status = httpStatus[code];
      assert.ok(status >= 400 && status < 500, `${name} (${err.statusCode}) → ${code} (${status})`);
    }
  });

  it('keeps the status where the catalogue has a code for it', () => {
    const expected: Record<string, string> = {
      FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
      FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
      FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed_request',
      FST_ERR_BAD_URL: 'malformed_request',
      FST_ERR_MAX_PARAM_LENGTH: 'invalid_schema',
      FST_ERR_NOT_FOUND: 'not_found',
    };
    for (const { name, err } of clientErrors) {
      if (expected[name]) assert.equal(classify(err).code, expected[name], name);
    }
  });

  it('maps any other 4xx by its status, and anything else to internal_error', () => {
    const withStatus = (statusCode: number): FastifyError =>
      Object.assign(new Error('x'), { statusCode, code: 'SOMETHING_NEW' });
    assert.equal(classify(withStatus(408)).code, 'request_timeout');
    assert.equal(classify(withStatus(431)).code, 'headers_too_large');
    assert.equal(classify(withStatus(418)).code, 'malformed_request');
    assert.equal(classify(withStatus(502)).code, 'internal_error');
    assert.equal(classify(new Error('boom')).code, 'internal_error');
  });
});

describe('classify: domain errors to catalogue codes (api/http-errors.ts)', () => {
  it('leaves HTTP statuses out of domain errors: only the API knows them', () => {
    const err = new BosunError('action_not_found');
    assert.equal('status' in err, false, 'a BosunError carries a code, not a status');
    assert.equal(classify(err).code, 'action_not_found');
    assert.equal(httpStatus[classify(err).code], 404);
  });

  it('answers 400 for exactly the codes the domain calls bad requests', () => {
    const four100 = (Object.keys(httpStatus) as ErrorCode[]).filter((c) => httpStatus[c] === 400).sort();
    assert.deepEqual([...badRequestCodes].sort(), four100);
  });

  it('answers a store out of reach, or a master role lost mid-request, with store_unavailable', () => {
    assert.equal(classify(new StoreUnavailableError('down')).code, 'store_unavailable');
    assert.equal(classify(new NotMasterError()).code, 'store_unavailable');
  });
});
