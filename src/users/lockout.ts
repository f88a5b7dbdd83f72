/**
 * Redis Enterprise's user login lockout (issue 14, finding 6), cluster-wide: the failure count and
 * the lock live in the store under `login-failures/<uid>`, written by compare-and-swap, so every
 * node counts the same failures and honours the same lock.
 *
 * The settings keep RE's names and defaults (its "Manage user login" docs; `rladmin info cluster`):
 * - login_lockout_threshold = 5: failed logins that lock the account; 0 turns lockout off;
 * - login_lockout_counter_reset_after = 900 s: the window in which failures are counted;
 * - login_lockout_duration = 1800 s: how long the lock lasts; 0 means until an admin releases it.
 * As in RE, a locked account is unlocked by setting its password (`PUT /v1/users/<uid>` with
 * `password`), which deletes this record in the same transaction (user-directory.ts).
 *
 * The record is kept apart from `users/<uid>` on purpose: failures must not change the user
 * record's revision, which is what cached credential checks are keyed on.
 */
import type { ClusterConfig, ClusterKeys } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import { ConflictError } from '../errors/domain.js';
import { casUpdate } from '../store/cas.js';
import { putRecord } from '../store/typed-key.js';
import type { Store } from '../store/types.js';
import { failureKey, type FailureRecord } from './user-records.js';

export interface LockoutSettings {
  readonly threshold: number;
  readonly counterResetAfterMs: number;
  /** 0: locked until an admin sets a new password. */
  readonly durationMs: number;
}

export const defaultLockoutSettings: LockoutSettings = {
  threshold: 5,
  counterResetAfterMs: 900_000,
  durationMs: 1_800_000,
};

export function lockoutSettings(config: ClusterConfig | undefined): LockoutSettings {
  const d = defaultLockoutSettings;
  const seconds = (v: number | undefined, fallback: number) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v * 1000 : fallback;
  return {
    threshold:
      typeof config?.login_lockout_threshold === 'number' && config.login_lockout_threshold >= 0
        ? Math.floor(config.login_lockout_threshold)
        : d.threshold,
    counterResetAfterMs: seconds(config?.login_lockout_counter_reset_after, d.counterResetAfterMs),
    durationMs: seconds(config?.login_lockout_duration, d.durationMs),
  };
}

/** The record after one more failure at `now`. */
export function afterFailure(
  record: FailureRecord | undefined,
  now: number,
  settings: LockoutSettings,
): FailureRecord {
  const fresh =
    !record ||
    (record.locked_until === undefined && now - record.first_failure > settings.counterResetAfterMs);
  // A lock that ran out starts a new count too.
  const expired =
    record?.locked_until !== undefined && record.locked_until !== 0 && record.locked_until <= now;
  const base = fresh || expired ? { failures: 0, first_failure: now } : record;
  const failures = base.failures + 1;
  const locks = settings.threshold > 0 && failures >= settings.threshold;
  return {
    failures,
    first_failure: base.first_failure,
    ...(locks ? { locked_until: settings.durationMs === 0 ? 0 : now + settings.durationMs } : {}),
  };
}

export type LockState =
  { readonly locked: false } | { readonly locked: true; readonly retryAfterSeconds?: number };

export function lockState(record: FailureRecord | undefined, now: number): LockState {
  if (record?.locked_until === undefined) return { locked: false };
  if (record.locked_until === 0) return { locked: true };
  if (record.locked_until <= now) return { locked: false };
  return { locked: true, retryAfterSeconds: Math.ceil((record.locked_until - now) / 1000) };
}

export class LoginLockout {
  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
  ) {}

  settings(): LockoutSettings {
    return lockoutSettings(this.view.read(this.keys.config));
  }

  /**
   * From the view: no store round trip on the login path. `revision` is the failure record's mod
   * revision as read (0 for none), for `clear`.
   */
  state(uid: number, now = Date.now()): LockState & { readonly revision: number } {
    const kv = this.view.get(this.keys.loginFailures(uid));
    const revision = kv?.modRevision ?? 0;
    if (this.settings().threshold === 0) return { locked: false, revision };
    return { ...lockState(this.view.read(failureKey(this.keys, uid)), now), revision };
  }

  /** Counts one failure, atomically across nodes. Resolves the lock state it led to. */
  async recordFailure(uid: number): Promise<LockState> {
    const settings = this.settings();
    if (settings.threshold === 0) return { locked: false };
    const key = failureKey(this.keys, uid);
    const userGone = async (): Promise<LockState | undefined> =>
      (await this.store.get(this.keys.user(uid))) ? undefined : { locked: false };
    try {
      return await casUpdate(
        this.store,
        key,
        (stored) => {
          const now = Date.now();
          const next = afterFailure(stored?.value, now, settings);
          return {
            // A user deleted meanwhile gets no record (it would outlive them).
            compare: [{ key: this.keys.user(uid), target: 'create', op: '>', value: 0 }],
            ops: [putRecord(key, next)],
            result: lockState(next, now),
            onConflict: userGone,
          };
        },
        { what: `The failed logins of user ${uid}`, onWritten: (revision) => this.view.waitFor(revision) },
      );
    } catch (err) {
      // Lost every race: other nodes are counting this user's failures right now; theirs count.
      if (err instanceof ConflictError) return this.state(uid);
      throw err;
    }
  }

  /**
   * A successful login resets the count. Only the record the login was checked against is deleted
   * (compare on `revision` from `state`): a failure or a lock that another node recorded while the
   * password was being checked stays.
   */
  async clear(uid: number, revision: number): Promise<void> {
    if (revision === 0) return;
    const key = this.keys.loginFailures(uid);
    await this.store.txn({
      compare: [{ key, target: 'mod', op: '=', value: revision }],
      success: [{ type: 'delete', key }],
    });
  }
}
