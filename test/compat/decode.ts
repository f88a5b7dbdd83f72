/**
 * A small stand-in for what the real clients do with a response: decode it into a declared type,
 * the way serde (redis-enterprise-rs, redisctl) and encoding/json (the Vault plugin's SDK) do.
 *
 * - A required field must be present and not null; an optional one (`Option<T>`) may be missing or
 *   null, and when present must have its type.
 * - Unknown fields are ignored, as serde and encoding/json ignore them by default.
 * - Integer types are range-checked as Rust's are (a u16 port above 65535 fails to decode).
 *
 * `decode` returns the problems, so a test can show every one at once.
 */
export type FieldType =
  | 'string'
  | 'bool'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'i32'
  | 'f32'
  | 'f64'
  | 'any'
  | { readonly vec: FieldType }
  | { readonly struct: Shape }
  /** A string that must be one of these values. */
  | { readonly oneOf: readonly string[] }
  /**
   * A string holding a number, as RE's v1 task entries send `progress` (docs/re-contract.md, "Generic actions
   * endpoints").
   */
  | 'numeric-string'
  /** A string of decimal digits (`creation_time`, `node_uid` in a v1 task entry). */
  | 'digit-string'
  /** ISO 8601 date-time string. */
  | 'datetime';

export interface Field {
  readonly type: FieldType;
  readonly required?: boolean;
}

export type Shape = Readonly<Record<string, Field>>;

export const req = (type: FieldType): Field => ({ type, required: true });
export const opt = (type: FieldType): Field => ({ type });

const ranges: Record<string, readonly [number, number]> = {
  u16: [0, 65_535],
  u32: [0, 4_294_967_295],
  u64: [0, Number.MAX_SAFE_INTEGER],
  i32: [-2_147_483_648, 2_147_483_647],
};

function check(value: unknown, type: FieldType, path: string, out: string[]): void {
  if (typeof type === 'object') {
    if ('vec' in type) {
      if (!Array.isArray(value))
        return void out.push(`${path}: expected an array, got ${JSON.stringify(value)}`);
      value.forEach((v, i) => check(v, type.vec, `${path}[${i}]`, out));
      return;
    }
    if ('struct' in type) {
      out.push(...decode(value, type.struct, path));
      return;
    }
    if (typeof value !== 'string' || !type.oneOf.includes(value)) {
      out.push(`${path}: expected one of ${type.oneOf.join('|')}, got ${JSON.stringify(value)}`);
    }
    return;
  }
  switch (type) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') out.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      return;
    case 'bool':
      if (typeof value !== 'boolean') out.push(`${path}: expected a bool, got ${JSON.stringify(value)}`);
      return;
    case 'f32':
    case 'f64':
      if (typeof value !== 'number') out.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      return;
    case 'numeric-string':
      if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(Number(value))) {
        out.push(`${path}: expected a string holding a number, got ${JSON.stringify(value)}`);
      }
      return;
    case 'digit-string':
      if (typeof value !== 'string' || !/^[0-9]+$/.test(value)) {
        out.push(`${path}: expected a string of digits, got ${JSON.stringify(value)}`);
      }
      return;
    case 'datetime':
      if (typeof value !== 'string' || !Number.isFinite(Date.parse(value))) {
        out.push(`${path}: expected an ISO 8601 time, got ${JSON.stringify(value)}`);
      }
      return;
    default: {
      const [min, max] = ranges[type]!;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        out.push(`${path}: expected ${type}, got ${JSON.stringify(value)}`);
      }
    }
  }
}

export function decode(value: unknown, shape: Shape, path = '$'): string[] {
  const out: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`${path}: expected an object, got ${JSON.stringify(value)}`];
  }
  const obj = value as Record<string, unknown>;
  for (const [name, field] of Object.entries(shape)) {
    const v = obj[name];
    if (v === undefined || v === null) {
      if (field.required) out.push(`${path}.${name}: missing field`);
      continue;
    }
    check(v, field.type, `${path}.${name}`, out);
  }
  return out;
}

export function decodeVec(value: unknown, shape: Shape, path = '$'): string[] {
  if (!Array.isArray(value)) return [`${path}: expected an array, got ${JSON.stringify(value)}`];
  return value.flatMap((v, i) => decode(v, shape, `${path}[${i}]`));
}
