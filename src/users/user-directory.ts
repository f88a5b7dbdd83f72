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

  async update(uid: number, changes: UserChanges): Promise<UserRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const kv = await this.store.get(this.keys.user(uid));
      if (!kv) throw new BosunError('user_not_exist', `User ${uid} does not exist.`);
      const current = JSON.parse(kv.value) as UserRecord;
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
      const compare: Compare[] = [{ key: kv.key, target: 'mod', op: '=', value: kv.modRevision }];
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

  async delete(uid: number): Promise<void> {
    const kv = await this.store.get(this.keys.user(uid));
    if (!kv) throw new BosunError('user_not_exist', `User ${uid} does not exist.`);
    const user = JSON.parse(kv.value) as UserRecord;
    const result = await this.store.txn({
      compare: [{ key: kv.key, target: 'mod', op: '=', value: kv.modRevision }],
      success: [
        { type: 'delete', key: kv.key },
        { type: 'delete', key: this.keys.userEmail(user.email) },
      ],
    });
    if (!result.succeeded)
      throw new BosunError('store_unavailable', 'The user changed meanwhile; try again.');
    await this.view.waitFor(result.revision);
  }
}
