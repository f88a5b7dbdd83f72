/**
 * Typed keys: a key names the record stored under it, and the record's TypeBox schema is checked
 * where stored JSON enters the process (a view's first read of a revision, a store read in a
 * read-modify-write). A malformed record is then one clear MalformedRecordError naming the key and
 * what is wrong, never a value of the wrong shape travelling on (docs/design.md, "Typed records").
 *
 * The layers above define their records' schemas and pass them in (`recordType`), so this module
 * depends on nothing but the store contract: dependencies keep pointing downward.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

import { MalformedRecordError } from './errors.js';
import type { Compare, KeyValue, Op, Store } from './types.js';

/** A kind of stored JSON record: its name (for errors) and a compiled check of its schema. */
export interface RecordType<T> {
  readonly name: string;
  /** Parses and checks one stored value; throws MalformedRecordError naming `key`. */
  decode(key: string, raw: string): T;
}

/**
 * A record type from its TypeBox schema. The schema's static type must be assignable to `T`, so
 * whatever passes the check is a valid `T` (the interface keeps the field docs and readonly-ness).
 */
export function recordType<T>(name: string, schema: TSchema & { static: T }): RecordType<T> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    name,
    decode(key: string, raw: string): T {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        throw new MalformedRecordError(key, name, 'not JSON', { cause: err });
      }
      if (compiled.Check(value)) return value;
      const first = compiled.Errors(value).First();
      throw new MalformedRecordError(
        key,
        name,
        first ? `${first.path || '/'}: ${first.message}` : 'bad shape',
      );
    },
  };
}

/** One store key and the record kind stored under it. */
export interface Key<T> {
  readonly key: string;
  readonly type: RecordType<T>;
}

/** A folder of keys that all hold the same record kind (`nodes/`, `users/` ...). */
export interface KeyFolder<T> {
  readonly prefix: string;
  readonly type: RecordType<T>;
}

export function typedKey<T>(key: string, type: RecordType<T>): Key<T> {
  return { key, type };
}

export function keyFolder<T>(prefix: string, type: RecordType<T>): KeyFolder<T> {
  return { prefix, type };
}

/** The key of one entry of a folder. */
export function keyIn<T>(folder: KeyFolder<T>, name: string | number): Key<T> {
  return { key: `${folder.prefix}${name}`, type: folder.type };
}

/** A put of a typed record: the only way a record is written, so its type matches its key. */
export function putRecord<T>(key: Key<T>, value: T, lease?: string): Op {
  return lease === undefined
    ? { type: 'put', key: key.key, value: JSON.stringify(value) }
    : { type: 'put', key: key.key, value: JSON.stringify(value), lease };
}

/** The compare "this key was not modified since `kv` was read" (or is still absent). */
export function unchangedSince(key: string, kv: Pick<KeyValue, 'modRevision'> | undefined): Compare {
  return { key, target: 'mod', op: '=', value: kv?.modRevision ?? 0 };
}

/** A record read from the store, checked, with the key-value it came from. */
export interface StoredRecord<T> {
  readonly kv: KeyValue;
  readonly value: T;
}

export function decodeKv<T>(type: RecordType<T>, kv: KeyValue): T {
  return type.decode(kv.key, kv.value);
}

/** Reads and checks one record straight from the store (not the view). */
export async function readRecord<T>(store: Store, key: Key<T>): Promise<StoredRecord<T> | undefined> {
  const kv = await store.get(key.key);
  return kv ? { kv, value: key.type.decode(kv.key, kv.value) } : undefined;
}
