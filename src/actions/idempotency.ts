/**
 * `Idempotency-Key` on a cluster action's POST, after Google AIP-155 and Stripe: a retried submit
 * with the same key and the same body answers with the run the first one created, on any node and
 * after any restart; the same key with another body is a 422 `idempotency_key_reused`.
 *
 * The record lives in the store (`idempotency/<digest>`), written in the run's own transaction, so
 * "the key is taken" and "the run exists" are one fact. Keys are per user (the digest hashes the
 * user and the key) and expire `ttlMs` after the first use: an expired record counts as absent at
 * once, and the master prunes expired records (src/actions/retention.ts). Only a submit that
 * created a run takes a key: a 400 or a 409 leaves it free, so the client can retry with it.
 */
import { createHash } from 'node:crypto';

import { Type } from '@sinclair/typebox';

import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import { BosunError } from '../errors/catalogue.js';
import { decodeKv, recordType } from '../store/typed-key.js';
import type { KeyValue, Store } from '../store/types.js';
import { actionRunRecord, runKey, type ActionRun } from './run.js';
import type { ActionSubmitter, SubmitClaim } from './submit.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Stripe's limit. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** How long a key holds (Stripe's 24 hours). */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** What the store keeps per key. */
export interface IdempotencyRecord {
  readonly action: string;
  /** sha256 of the action name and the body in canonical JSON (keys sorted). */
  readonly fingerprint: string;
  readonly action_uid: string;
  /** Unix ms. */
  readonly created_at: number;
  readonly expires_at: number;
  /** The run as the first request answered it, for when the run itself has since been pruned. */
  readonly run: Readonly<Record<string, unknown>>;
}

/** What is checked when a stored key record enters (store/typed-key.ts). */
export const idempotencyRecord = recordType<IdempotencyRecord>(
  'idempotency key',
  Type.Object({
    action: Type.String(),
    fingerprint: Type.String(),
    action_uid: Type.String(),
    created_at: Type.Number(),
    expires_at: Type.Number(),
    run: Type.Record(Type.String(), Type.Unknown()),
  }),
);

export interface SubmitRequest {
  readonly requester: string | undefined;
  readonly requestId: string | undefined;
  /** Whose keys these are: the user's uid. */
  readonly scope: string;
  /** The raw header; an array when sent more than once. */
  readonly key: string | string[] | undefined;
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The header's key, or a 400 `invalid_idempotency_key` naming what is wrong with it. */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw))
    throw new BosunError('invalid_idempotency_key', 'Send one Idempotency-Key header, not several.');
  if (raw.length === 0)
    throw new BosunError('invalid_idempotency_key', 'The Idempotency-Key header is empty.');
  if (raw.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new BosunError(
      'invalid_idempotency_key',
      `The Idempotency-Key is ${raw.length} characters long; the limit is ${MAX_IDEMPOTENCY_KEY_LENGTH}.`,
    );
  }
  if (!/^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/.test(raw)) {
    throw new BosunError(
      'invalid_idempotency_key',
      'The Idempotency-Key must be printable ASCII, without leading or trailing spaces.',
    );
  }
  return raw;
}

export class IdempotentSubmitter {
  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly submitter: ActionSubmitter,
    private readonly ttlMs: number = DEFAULT_IDEMPOTENCY_TTL_MS,
  ) {}

  async submit(
    name: string,
    body: unknown,
    request: SubmitRequest,
  ): Promise<{ run: ActionRun; replayed: boolean }> {
    const key = parseIdempotencyKey(request.key);
    if (key === undefined) {
      return {
        run: await this.submitter.submit(name, body, request.requester, request.requestId),
        replayed: false,
      };
    }
    const recordKey = this.keys.idempotency(sha256(`${request.scope}\n${key}`));
    const fingerprint = sha256(`${name}\n${canonicalJson(body ?? {})}`);
    // From the store, not the view: a first submit on another node may not have reached this view.
    const existing = await this.store.get(recordKey);
    const live = this.#live(existing);
    if (live) return { run: this.#replay(live, fingerprint), replayed: true };

    let replayed = false;
    const claim: SubmitClaim = {
      // Free, or held by an expired record this write replaces.
      compare: [{ key: recordKey, target: 'mod', op: '=', value: existing?.modRevision ?? 0 }],
      ops: (run) => {
        const now = Date.now();
        const record: IdempotencyRecord = {
          action: name,
          fingerprint,
          action_uid: run.action_uid,
          created_at: now,
          expires_at: now + this.ttlMs,
          run: { ...run },
        };
        return [{ type: 'put', key: recordKey, value: JSON.stringify(record) }];
      },
      onLost: async () => {
        const won = this.#live(await this.store.get(recordKey));
        if (!won) return undefined;
        replayed = true;
        return this.#replay(won, fingerprint);
      },
    };
    const run = await this.submitter.submit(name, body, request.requester, request.requestId, claim);
    return { run, replayed };
  }

  #live(kv: KeyValue | undefined): IdempotencyRecord | undefined {
    if (!kv) return undefined;
    const record = decodeKv(idempotencyRecord, kv);
    return Date.now() < record.expires_at ? record : undefined;
  }

  /** The original run as it stands now (or as first answered, if pruned); 422 for another request. */
  #replay(record: IdempotencyRecord, fingerprint: string): ActionRun {
    if (record.fingerprint !== fingerprint) {
      throw new BosunError(
        'idempotency_key_reused',
        `This Idempotency-Key was first used for a different request (${record.action}, action_uid ${record.action_uid}); use a new key for a new request.`,
        { details: { action_uid: record.action_uid } },
      );
    }
    return (
      this.view.read(runKey(this.keys, record.action_uid)) ??
      actionRunRecord.decode(this.keys.action(record.action_uid), JSON.stringify(record.run))
    );
  }
}
