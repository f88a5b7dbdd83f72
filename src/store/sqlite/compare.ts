/**
 * Compare evaluation inside a write transaction, with etcd's rules: a missing key has create = mod =
 * version = 0 and never matches a value compare (store/types.ts, Compare).
 */
import type { Compare } from '../types.js';
import type { KvRow } from './schema.js';

function actualOf(row: KvRow | undefined, c: Compare): number | string | undefined {
  switch (c.target) {
    case 'value':
      return row?.value;
    case 'mod':
      return row?.mod_rev ?? 0;
    case 'create':
      return row?.create_rev ?? 0;
    case 'version':
      return row?.version ?? 0;
    default: {
      const never: never = c.target;
      throw new Error(`unknown compare target ${String(never)}`);
    }
  }
}

export function compareMatches(row: KvRow | undefined, c: Compare): boolean {
  const actual = actualOf(row, c);
  if (actual === undefined) return false;
  const expected = c.value;
  switch (c.op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '>':
      return actual > expected;
    default: {
      const never: never = c.op;
      throw new Error(`unknown compare op ${String(never)}`);
    }
  }
}
