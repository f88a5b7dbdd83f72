/**
 * Users, stored under `users/<uid>`, with `user-emails/<email>` making emails unique and
 * `user-seq` handing out uids. Reads come from the view; writes are compare-and-swap transactions,
 * and answer only once the view has them (read-your-writes).
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import { BosunError } from '../errors/catalogue.js';
import type { Compare, Op, Store } from '../store/types.js';
import { hashPassword } from './passwords.js';
import type { Role } from './roles.js';

export interface UserRecord {
  readonly uid: number;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly password_hash: string;
  readonly auth_method: 'regular';
  /** ISO 8601. */
  readonly password_issue_date: string;
}

/** A user as the API shows it: never the hash. */
export type PublicUser = Omit<UserRecord, 'password_hash'>;

export function publicUser(user: UserRecord): PublicUser {
  const { password_hash: _omitted, ...rest } = user;
  return rest;
}

export interface NewUser {
  readonly email: string;
  readonly name: string;
  readonly password: string;
  readonly role: Role;
}

export interface UserChanges {
  readonly email?: string | undefined;
  readonly name?: string | undefined;
  readonly password?: string | undefined;
  readonly role?: Role | undefined;
}

/**
 * Checks a change against the user's record as the transaction reads it (not as the view showed it
 * earlier), so a concurrent role change cannot slip past the caller's rules. Throws to refuse.
 */
export type UserGuard = (current: UserRecord) => void;

export class UserDirectory {
  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
  ) {}

  byUid(uid: number): { user: UserRecord; revision: number } | undefined {
    const kv = this.view.get(this.keys.user(uid));
    return kv ? { user: this.view.getJson<UserRecord>(kv.key)!, revision: kv.modRevision } : undefined;
  }

  byEmail(email: string): { user: UserRecord; revision: number } | undefined {
    const uid = this.view.get(this.keys.userEmail(email))?.value;
    return uid === undefined ? undefined : this.byUid(Number(uid));
  }

  list(): UserRecord[] {
    return this.view.listJson<UserRecord>(this.keys.users).sort((a, b) => a.uid - b.uid);
  }

  /** Creates a user; resolves undefined when the email is already taken. */
  async create(input: NewUser): Promise<UserRecord | undefined> {
    const passwordHash = await hashPassword(input.password);
    for (;;) {
      const seq = await this.store.get(this.keys.userSeq);
      const uid = (seq ? Number(seq.value) : 0) + 1;
      const user: UserRecord = {
        uid,
        email: input.email,
        name: input.name,
        role: input.role,
        password_hash: passwordHash,
        auth_method: 'regular',
        password_issue_date: new Date().toISOString(),
      };
      const emailKey = this.keys.userEmail(input.email);
      const result = await this.store.txn({
        compare: [
          { key: emailKey, target: 'create', op: '=', value: 0 },
          { key: this.keys.userSeq, target: 'mod', op: '=', value: seq?.modRevision ?? 0 },
        ],
        success: [
          { type: 'put', key: this.keys.userSeq, value: String(uid) },
          { type: 'put', key: this.keys.user(uid), value: JSON.stringify(user) },
          { type: 'put', key: emailKey, value: String(uid) },
        ],
      });
      if (result.succeeded) {
        await this.view.waitFor(result.revision);
        return user;
      }
      if (await this.store.get(emailKey)) return undefined;
    }
  }

  async update(uid: number, changes: UserChanges, guard?: UserGuard): Promise<UserRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const kv = await this.store.get(this.keys.user(uid));
      if (!kv) throw new BosunError('user_not_exist', `User ${uid} does not exist.`);
      const current = JSON.parse(kv.value) as UserRecord;
      guard?.(current);
      const next: UserRecord = {
        ...current,
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.role !== undefined ? { role: changes.role } : {}),
        ...(changes.email !== undefined ? { email: changes.email } : {}),
        ...(changes.password !== undefined
          ? {
              password_hash: await hashPassword(changes.password),
              password_issue_date: new Date().toISOString(),
            }
          : {}),
      };
      const ops: Op[] = [{ type: 'put', key: kv.key, value: JSON.stringify(next) }];
      // Setting a password is Redis Enterprise's unlock: it clears the failure count and any lock.
      if (changes.password !== undefined) ops.push({ type: 'delete', key: this.keys.loginFailures(uid) });
      const compare: Compare[] = [{ key: kv.key, target: 'mod', op: '=', value: kv.modRevision }];
      if (current.role === 'admin' && next.role !== 'admin') {
        compare.push(await this.#anotherAdmin(uid, 'demote'));
      }
      const oldEmailKey = this.keys.userEmail(current.email);
      const newEmailKey = this.keys.userEmail(next.email);
      if (newEmailKey !== oldEmailKey) {
        compare.push({ key: newEmailKey, target: 'create', op: '=', value: 0 });
        ops.push({ type: 'delete', key: oldEmailKey }, { type: 'put', key: newEmailKey, value: String(uid) });
      }
      const result = await this.store.txn({ compare, success: ops });
      if (result.succeeded) {
        await this.view.waitFor(result.revision);
        return next;
      }
      if (newEmailKey !== oldEmailKey && (await this.store.get(newEmailKey))) {
        throw new BosunError('name_already_exists', `A user with email ${next.email} already exists.`);
      }
    }
    throw new BosunError('store_unavailable', 'The user kept changing; try again.');
  }

  async delete(uid: number, guard?: UserGuard): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const kv = await this.store.get(this.keys.user(uid));
      if (!kv) throw new BosunError('user_not_exist', `User ${uid} does not exist.`);
      const user = JSON.parse(kv.value) as UserRecord;
      guard?.(user);
      const compare: Compare[] = [{ key: kv.key, target: 'mod', op: '=', value: kv.modRevision }];
      if (user.role === 'admin') compare.push(await this.#anotherAdmin(uid, 'delete'));
      const result = await this.store.txn({
        compare,
        success: [
          { type: 'delete', key: kv.key },
          { type: 'delete', key: this.keys.userEmail(user.email) },
          // Its lockout state goes with it; a later user given the same uid starts clean.
          { type: 'delete', key: this.keys.loginFailures(uid) },
        ],
      });
      if (result.succeeded) {
        await this.view.waitFor(result.revision);
        return;
      }
    }
    throw new BosunError('store_unavailable', 'The user kept changing; try again.');
  }

  /**
   * The cluster must keep at least one admin (issue 14, finding 3). Removing admin `uid` is allowed
   * only while another admin exists, and the transaction that removes it compares that other admin's
   * record unchanged: two admins demoting each other at once cannot both succeed, because each
   * transaction's witness is the other's target. Compare-and-swap, not check-then-act.
   */
  async #anotherAdmin(uid: number, verb: 'demote' | 'delete'): Promise<Compare> {
    const { kvs } = await this.store.range(this.keys.users);
    for (const kv of kvs) {
      const other = JSON.parse(kv.value) as UserRecord;
      if (other.uid !== uid && other.role === 'admin') {
        return { key: kv.key, target: 'mod', op: '=', value: kv.modRevision };
      }
    }
    throw new BosunError(
      'last_admin',
      `User ${uid} is the cluster's last admin; make another user admin before you ${verb} this one.`,
    );
  }
}
