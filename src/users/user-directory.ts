/**
 * Users, stored under `users/<uid>`, with `user-emails/<email>` and `user-names/<name>` making the
 * two login identifiers unique (one namespace: a name may not be another user's email), and
 * `user-seq` handing out uids. Reads come from the view; writes are compare-and-swap transactions,
 * and answer only once the view has them (read-your-writes).
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import { BosunError } from '../errors/catalogue.js';
import { casUpdate, type CasMutation } from '../store/cas.js';
import { decodeKv, putRecord, type Key } from '../store/typed-key.js';
import type { Compare, Op, Store } from '../store/types.js';
import { hashPassword } from './passwords.js';
import type { Role } from './roles.js';
import { defaultUserSettings, type UserSettings } from './user-fields.js';
import { userKey, userRecord, userSeqKey, usersFolder, type UserRecord } from './user-records.js';

export type { UserRecord } from './user-records.js';

/** A user as the API shows it: never the hash; settings filled with their defaults. */
export type PublicUser = Omit<UserRecord, 'password_hash'> & UserSettings;

export function publicUser(user: UserRecord): PublicUser {
  const { password_hash: _omitted, ...rest } = user;
  return { ...defaultUserSettings, ...rest };
}

export interface NewUser extends Partial<UserSettings> {
  /** Empty for a user who signs in by name. */
  readonly email: string;
  readonly name: string;
  readonly password: string;
  readonly role: Role;
}

export interface UserChanges extends Partial<UserSettings> {
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

const settingKeys = ['email_alerts', 'cluster_email_alerts', 'bdbs_email_alerts', 'status'] as const;

/** The settings present in `from`, for spreading into a record. */
function settingsOf(from: Partial<UserSettings>): Partial<UserSettings> {
  const out: Record<string, unknown> = {};
  for (const k of settingKeys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

/** The identity fields a change sets. */
function identityOf(changes: UserChanges): Partial<UserRecord> {
  return {
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.role !== undefined ? { role: changes.role } : {}),
    ...(changes.email !== undefined ? { email: changes.email } : {}),
  };
}

/**
 * The index keys a user's identifiers need, and the compares that make them free: a user's email and
 * name each take their own index, and neither may be the other identifier of someone else.
 */
function identifierGuards(
  keys: ClusterKeys,
  user: { email: string; name: string },
  changed: { email: boolean; name: boolean },
): Compare[] {
  const compare: Compare[] = [];
  const same = user.email.toLowerCase() === user.name.toLowerCase();
  const free = (key: string) => compare.push({ key, target: 'create', op: '=', value: 0 });
  if (changed.email && user.email) {
    free(keys.userEmail(user.email));
    if (!same) free(keys.userName(user.email));
  }
  if (changed.name) {
    free(keys.userName(user.name));
    if (!same) free(keys.userEmail(user.name));
  }
  return compare;
}

export class UserDirectory {
  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
  ) {}

  byUid(uid: number): { user: UserRecord; revision: number } | undefined {
    const key = userKey(this.keys, uid);
    const kv = this.view.get(key.key);
    return kv ? { user: this.view.read(key)!, revision: kv.modRevision } : undefined;
  }

  /**
   * `byUid`, with an absence confirmed by the store (cluster/view.ts, settle): a user created on
   * another node a moment ago is found, not answered 404.
   */
  async byUidSettled(uid: number): Promise<{ user: UserRecord; revision: number } | undefined> {
    const seen = this.byUid(uid);
    if (seen) return seen;
    await this.view.settle(userKey(this.keys, uid).key);
    return this.byUid(uid);
  }

  byEmail(email: string): { user: UserRecord; revision: number } | undefined {
    const uid = this.view.get(this.keys.userEmail(email))?.value;
    return uid === undefined ? undefined : this.byUid(Number(uid));
  }

  byName(name: string): { user: UserRecord; revision: number } | undefined {
    const uid = this.view.get(this.keys.userName(name))?.value;
    return uid === undefined ? undefined : this.byUid(Number(uid));
  }

  /** The user a login identifier names: RE signs users in by email or by name. */
  byLogin(login: string): { user: UserRecord; revision: number } | undefined {
    if (login === '') return undefined;
    return this.byEmail(login) ?? this.byName(login);
  }

  /**
   * `byLogin`, with an unknown login confirmed by the store (cluster/view.ts, settle): a user created on
   * another node a moment ago signs in here too. The indexes and the user are written in one
   * transaction, so once the view holds an index it holds the user.
   */
  async byLoginSettled(login: string): Promise<{ user: UserRecord; revision: number } | undefined> {
    const seen = this.byLogin(login);
    if (seen || login === '') return seen;
    await Promise.all([
      this.view.settle(this.keys.userEmail(login)),
      this.view.settle(this.keys.userName(login)),
    ]);
    return this.byLogin(login);
  }

  list(): UserRecord[] {
    return this.view.readAll(usersFolder(this.keys)).sort((a, b) => a.uid - b.uid);
  }

  /** Creates a user; resolves undefined when its email or name is already a login of someone. */
  async create(input: NewUser): Promise<UserRecord | undefined> {
    const passwordHash = await hashPassword(input.password);
    const seqKey = userSeqKey(this.keys);
    return casUpdate(
      this.store,
      seqKey,
      (seq) => {
        const uid = (seq?.value ?? 0) + 1;
        const user: UserRecord = {
          uid,
          email: input.email,
          name: input.name,
          role: input.role,
          password_hash: passwordHash,
          auth_method: 'regular',
          password_issue_date: new Date().toISOString(),
          ...defaultUserSettings,
          ...settingsOf(input),
        };
        const guards = identifierGuards(this.keys, user, { email: true, name: true });
        const ops: Op[] = [putRecord(seqKey, uid), putRecord(userKey(this.keys, uid), user)];
        ops.push(...this.#indexOps(uid, undefined, user, { email: true, name: true }));
        // A taken identifier ends it; a moved `user-seq` (another create) is worth another try.
        const onConflict = async () => ((await this.#anyTaken(guards)) ? null : undefined);
        return { compare: guards, ops, result: user, onConflict };
      },
      { what: 'The user sequence', onWritten: (revision) => this.view.waitFor(revision) },
    ).then((user) => user ?? undefined);
  }

  /** Whether a failed transaction failed on an identifier guard (rather than on `user-seq`). */
  async #anyTaken(guards: readonly Compare[]): Promise<boolean> {
    for (const g of guards) if (await this.store.get(g.key)) return true;
    return false;
  }

  /** The index writes that move a user's identifiers from `before` (none for a new user) to `after`. */
  #indexOps(
    uid: number,
    before: UserRecord | undefined,
    after: UserRecord,
    changed: { email: boolean; name: boolean },
  ): Op[] {
    const ops: Op[] = [];
    if (changed.email) {
      if (before?.email) ops.push({ type: 'delete', key: this.keys.userEmail(before.email) });
      if (after.email) ops.push({ type: 'put', key: this.keys.userEmail(after.email), value: String(uid) });
    }
    if (changed.name) {
      if (before) ops.push({ type: 'delete', key: this.keys.userName(before.name) });
      ops.push({ type: 'put', key: this.keys.userName(after.name), value: String(uid) });
    }
    return ops;
  }

  async update(uid: number, changes: UserChanges, guard?: UserGuard): Promise<UserRecord> {
    const password =
      changes.password !== undefined
        ? {
            password_hash: await hashPassword(changes.password),
            password_issue_date: new Date().toISOString(),
          }
        : {};
    return this.#change(uid, guard, async (current, key) => {
      const next: UserRecord = { ...current, ...settingsOf(changes), ...identityOf(changes), ...password };
      const ops: Op[] = [putRecord(key, next)];
      // Setting a password is Redis Enterprise's unlock: it clears the failure count and any lock.
      if (changes.password !== undefined) ops.push({ type: 'delete', key: this.keys.loginFailures(uid) });
      const compare: Compare[] = [];
      if (current.role === 'admin' && next.role !== 'admin') {
        compare.push(await this.#anotherAdmin(uid, 'demote'));
      }
      const changed = {
        email: next.email.toLowerCase() !== current.email.toLowerCase(),
        name: next.name.toLowerCase() !== current.name.toLowerCase(),
      };
      // A user's own other identifier never blocks them: only someone else's does.
      const own = new Set([this.keys.userName(current.name)]);
      if (current.email) own.add(this.keys.userEmail(current.email));
      const guards = identifierGuards(this.keys, next, changed).filter((g) => !own.has(g.key));
      compare.push(...guards);
      ops.push(...this.#indexOps(uid, current, next, changed));
      const onConflict = async (): Promise<undefined> => {
        if (!(await this.#anyTaken(guards))) return undefined;
        const which = changed.email && next.email ? `email or name ${next.email}` : `name ${next.name}`;
        throw new BosunError('name_already_exists', `A user with ${which} already exists.`);
      };
      return { compare, ops, result: next, onConflict };
    });
  }

  async delete(uid: number, guard?: UserGuard): Promise<void> {
    await this.#change(uid, guard, async (user, key) => {
      const compare: Compare[] = user.role === 'admin' ? [await this.#anotherAdmin(uid, 'delete')] : [];
      const ops: Op[] = [
        { type: 'delete', key: key.key },
        ...(user.email ? [{ type: 'delete', key: this.keys.userEmail(user.email) } as const] : []),
        { type: 'delete', key: this.keys.userName(user.name) },
        // Its lockout state goes with it; a later user given the same uid starts clean.
        { type: 'delete', key: this.keys.loginFailures(uid) },
      ];
      return { compare, ops, result: undefined };
    });
  }

  /** A read-modify-write of user `uid`: 404 when absent, `guard` checked against the record as read. */
  #change<R>(
    uid: number,
    guard: UserGuard | undefined,
    decide: (current: UserRecord, key: Key<UserRecord>) => Promise<CasMutation<R>>,
  ): Promise<R> {
    const key = userKey(this.keys, uid);
    return casUpdate(
      this.store,
      key,
      async (stored) => {
        if (!stored) throw new BosunError('user_not_exist', `User ${uid} does not exist.`);
        guard?.(stored.value);
        return decide(stored.value, key);
      },
      { what: `User ${uid}`, onWritten: (revision) => this.view.waitFor(revision) },
    );
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
      const other = decodeKv(userRecord, kv);
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
