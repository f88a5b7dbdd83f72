/**
 * A short, safe rendering of a client-supplied value for an error description. It never walks the
 * value (so no depth can overflow the stack) and never returns more than about `max` characters (so
 * a 600 KB array is not echoed back as a 600 KB error).
 */
export const PREVIEW_CHARS = 64;

export function preview(value: unknown, max = PREVIEW_CHARS): string {
  switch (typeof value) {
    case 'string':
      return value.length > max ? `${JSON.stringify(value.slice(0, max))}…` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? `an array of ${value.length} item(s)` : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** Cuts a description (or any text built from client input) to `max` characters. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
