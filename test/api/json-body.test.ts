/** Unit tests of the request body parser and the safe echo (api/json-body.ts, errors/preview.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { jsonDepth, parseJsonBody } from '../../src/api/json-body.js';
import { MAX_JSON_DEPTH } from '../../src/api/limits.js';
import { BosunError } from '../../src/errors/catalogue.js';
import { preview, truncate } from '../../src/errors/preview.js';

function refusal(text: string): BosunError {
  try {
    parseJsonBody(text);
  } catch (err) {
    assert.ok(err instanceof BosunError, `not a BosunError: ${String(err)}`);
    return err;
  }
  assert.fail(`accepted ${text.slice(0, 80)}`);
}

describe('jsonDepth', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    assert.equal(jsonDepth('1'), 0);
    assert.equal(jsonDepth('{"a":[1,{"b":2}]}'), 3);
    assert.equal(jsonDepth('{"a":"[[[[{{{{"}'), 1);
    assert.equal(jsonDepth('{"a":"\\"[[[["}'), 1);
    assert.equal(jsonDepth('[[],[[]],[]]'), 3);
  });

  it('stops early once past the limit, without recursion, on any depth', () => {
    const deep = '['.repeat(1_000_000);
    assert.equal(jsonDepth(deep, 32), 33);
  });
});

describe('parseJsonBody', () => {
  it('parses JSON; blank text is no body', () => {
    assert.deepEqual(parseJsonBody('{"node_uid":"2"}'), { node_uid: '2' });
    assert.equal(parseJsonBody('  \n'), undefined);
    assert.equal(parseJsonBody('null'), null);
  });

  it(`takes ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}, before parsing`, () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    assert.ok(Array.isArray(parseJsonBody(nest(MAX_JSON_DEPTH))));
    const err = refusal(nest(MAX_JSON_DEPTH + 1));
    assert.equal(err.code, 'invalid_schema');
    assert.match(err.message, /deeper than 32/);
    // 4,100 levels (the finding) and a million: the same answer, no stack overflow.
    assert.equal(refusal(`{"node_uid":${nest(4100)}}`).code, 'invalid_schema');
    assert.equal(refusal('['.repeat(1_000_000)).code, 'invalid_schema');
  });

  it('refuses __proto__ and constructor.prototype, however spelled, as invalid_schema (it is valid JSON)', () => {
    for (const text of [
      '{"__proto__":{"admin":true}}',
      '{"a":[{"b":{"__proto__":1}}]}',
      '{"\\u005f_proto__":{}}',
      '{"\\u005F\\u005Fproto\\u005f\\u005f":{}}',
      '{"constructor":{"prototype":{"x":1}}}',
    ]) {
      const err = refusal(text);
      assert.equal(err.code, 'invalid_schema', text);
      assert.match(err.message, /__proto__|constructor\.prototype/, text);
      assert.doesNotMatch(err.message, /not valid JSON/, text);
    }
    // The words themselves are fine as values, and "constructor" alone is a harmless key.
    assert.deepEqual(parseJsonBody('{"name":"__proto__"}'), { name: '__proto__' });
    assert.deepEqual(parseJsonBody('{"constructor":"x"}'), { constructor: 'x' });
  });

  it('malformed JSON is invalid_json, with a bounded description', () => {
    const err = refusal(`{"a": ${'x'.repeat(100_000)}`);
    assert.equal(err.code, 'invalid_json');
    assert.ok(err.message.length < 300, `${err.message.length} characters`);
  });
});

describe('preview', () => {
  it('never walks the value and never grows with it', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(preview(deep), 'an array of 1 item(s)');
    assert.equal(preview(new Array(600_000).fill(1)), 'an array of 600000 item(s)');
    assert.equal(preview({ a: 1 }), 'an object');
    assert.equal(preview(null), 'null');
    assert.equal(preview(12), '12');
    assert.equal(preview('abc'), '"abc"');
    assert.ok(preview('x'.repeat(600_000)).length < 80);
  });

  it('truncate cuts to the bound', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 4), 'abc');
  });
});
