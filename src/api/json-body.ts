/**
 * The API's one body parser. It bounds the body before anything walks it: the nesting depth is
 * counted on the raw text, in one loop with no recursion, before `JSON.parse` builds anything; only
 * then is the text parsed. Keys that can poison prototypes are refused with a precise error (the
 * body is valid JSON, so `invalid_json` would be wrong), as Fastify's own parser refuses them.
 */
import { BosunError } from '../errors/catalogue.js';
import { truncate } from '../errors/preview.js';
import { MAX_JSON_DEPTH } from './limits.js';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of `text`, counting only brackets outside strings; stops early past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

// Any spelling of the two keys, escapes included (as in secure-json-parse); only then is the value walked.
const suspectKey =
  /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"|"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"/;

/** The first forbidden key in `value`, walked with an explicit stack (the depth is bounded already). */
function forbiddenKey(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) return '__proto__';
    const record = v as Record<string, unknown>;
    const ctor = Object.hasOwn(v, 'constructor') ? record.constructor : undefined;
    if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) {
      return 'constructor.prototype';
    }
    for (const key of Object.keys(record)) stack.push(record[key]);
  }
  return undefined;
}

/** Parses a JSON request body; blank text is no body. Throws BosunError (400) for a body it refuses. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new BosunError(
      'invalid_schema',
      `The request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays; no Bosun request needs that.`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes a little of the body; it is cut to a bound all the same.
    const reason = err instanceof Error ? truncate(err.message, 160) : 'parse error';
    throw new BosunError('invalid_json', `The request body is not valid JSON: ${reason}`);
  }
  if (suspectKey.test(text)) {
    const key = forbiddenKey(value);
    if (key !== undefined) {
      throw new BosunError(
        'invalid_schema',
        `The request body holds the key "${key}", which no Bosun request uses; it is refused because it can alter object prototypes.`,
      );
    }
  }
  return value;
}
