/**
 * Turns an `Authorization` header into a principal: HTTP Basic (email and password) or
 * `JWT <token>` (docs/re-contract.md, "Authentication").
 *
 * The login path, cheapest refusal first (issue 14, findings 6 and 7):
 * 1. a client over its failed-login limit gets 429 (client-limiter.ts), before any work;
 * 2. a locked account gets 401 `account_locked` (users/lockout.ts), before any password work;
 * 3. credentials this node verified recently are accepted from a cache, without scrypt;
 * 4. otherwise scrypt runs through the password gate (password-gate.ts), which sheds what it cannot
 *    run soon with 503. A failure counts towards the client's limit and the account's lockout.
 * Tokens never touch the gate: HS256 is checked synchronously (tokens.ts).
 *
 * The cache: scrypt is slow on purpose, and Redis Enterprise clients send Basic credentials on every
 * request. A successful check is remembered under an HMAC of email and password with a per-process
 * random key (never the password itself), for at most `cacheTtlMs`, and only while the user record
 * keeps the revision it was verified against: a password or role change, or deleting the user,
 * changes that revision and the entry no longer matches, so revocation stays immediate.
 */
import { createHmac, randomBytes } from 'node:crypto';

import { BosunError } from '../../errors/catalogue.js';
import type { LoginLockout } from '../../users/lockout.js';
import { hashPassword, verifyPassword } from '../../users/passwords.js';
import type { Role } from '../../users/roles.js';
import type { UserDirectory } from '../../users/user-directory.js';
import { ClientLimiter, type ClientLimiterOptions } from './client-limiter.js';
import { PasswordGate, type PasswordGateOptions } from './password-gate.js';
import { Tarpit, type TarpitOptions } from './tarpit.js';
import type { TokenService } from './tokens.js';

export interface Principal {
  readonly uid: number;
  /** Empty for a user who signs in by name. */
  readonly email: string;
  readonly name: string;
  readonly role: Role;
}

export interface AuthenticatorOptions {
  readonly gate?: PasswordGateOptions;
  readonly clientLimit?: ClientLimiterOptions;
  /** How load refusals (429, 503) are slowed down (tarpit.ts). */
  readonly tarpit?: TarpitOptions;
  /** How long a verified credential is trusted without scrypt, in ms. (Default: 300000) */
  readonly cacheTtlMs?: number;
  /** Told of each lockout this node's failed check caused (the login tried), for metrics and the event log. */
  readonly onLockout?: (login: string) => void;
}

const CACHE_LIMIT = 10_000;
/** How long a failed (login, password) pair is remembered: RE's lockout counting window. */
const FAILED_TTL_MS = 900_000;

interface Verified {
  readonly revision: number;
  readonly until: number;
}

export class Authenticator {
  readonly gate: PasswordGate;
  readonly limiter: ClientLimiter;
  readonly tarpit: Tarpit;
  readonly #cacheTtlMs: number;
  readonly #onLockout: ((login: string) => void) | undefined;
  readonly #verified = new Map<string, Verified>();
  readonly #failed = new Map<string, Verified>();
  readonly #inFlight = new Map<string, Promise<boolean>>();
  readonly #cacheKey = randomBytes(32);
  #dummyHash: Promise<string> | undefined;

  constructor(
    private readonly users: UserDirectory,
    private readonly tokens: TokenService,
    private readonly lockout: LoginLockout,
    options: AuthenticatorOptions = {},
  ) {
    this.gate = new PasswordGate(options.gate);
    this.limiter = new ClientLimiter(options.clientLimit);
    this.tarpit = new Tarpit(options.tarpit);
    this.#cacheTtlMs = options.cacheTtlMs ?? 300_000;
    this.#onLockout = options.onLockout;
  }

  /** `client` identifies the caller for the failed-login limit (its address). */
  async authenticate(header: string | undefined, client = ''): Promise<Principal | undefined> {
    if (!header) return undefined;
    const space = header.indexOf(' ');
    if (space < 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      return this.verifyCredentials(decoded.slice(0, colon), decoded.slice(colon + 1), client);
    }
    if (scheme === 'jwt' || scheme === 'bearer') return this.#verifyToken(value);
    return undefined;
  }

  /** `login` is an email or a user name: Redis Enterprise signs users in by either. */
  async verifyCredentials(login: string, password: string, client = ''): Promise<Principal | undefined> {
    try {
      return await this.#verifyCredentials(login, password, client);
    } catch (err) {
      if (err instanceof BosunError && (err.code === 'server_busy' || err.code === 'too_many_requests')) {
        await this.tarpit.hold();
      }
      throw err;
    }
  }

  async #verifyCredentials(login: string, password: string, client: string): Promise<Principal | undefined> {
    this.limiter.check(client);
    const key = createHmac('sha256', this.#cacheKey)
      .update(login.toLowerCase())
      .update('\0')
      .update(password)
      .digest('base64');
    const now = Date.now();
    // A login the view lacks is looked up in the store (a user created elsewhere a moment ago), unless
    // this very failure was answered a moment ago.
    const found =
      this.users.byLogin(login) ??
      (this.#isKnownFailure(key, 0, now) ? undefined : await this.users.byLoginSettled(login));
    // A locked account signs in with nothing, as on RE (`status: locked`).
    if (!found || found.user.status === 'locked') {
      // Spend the same time as a real check, so response times do not reveal which emails exist.
      if (!this.#isKnownFailure(key, 0, now)) {
        this.#dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
        const dummy = await this.#dummyHash;
        await this.#check(key, () => verifyPassword(password, dummy), 0, now, client);
      }
      return undefined;
    }
    const { user, revision } = found;
    const lock = this.lockout.state(user.uid);
    if (lock.locked) {
      const err = new BosunError(
        'account_locked',
        lock.retryAfterSeconds === undefined
          ? 'The account is locked after too many failed logins; an admin can unlock it by setting a new password.'
          : `The account is locked after too many failed logins; retry in ${lock.retryAfterSeconds} s, or ask an admin to set a new password.`,
      );
      err.retryAfterSeconds = lock.retryAfterSeconds;
      throw err;
    }
    const cached = this.#verified.get(key);
    if (!cached || cached.revision !== revision || cached.until <= now) {
      if (this.#isKnownFailure(key, revision, now)) return undefined;
      const ok = await this.#check(
        key,
        () => verifyPassword(password, user.password_hash),
        revision,
        now,
        client,
      );
      if (ok === 'failed') {
        // The account was not locked above, so a locked state now is the lock this failure caused.
        const after = await this.lockout.recordFailure(user.uid);
        if (after.locked) this.#onLockout?.(login);
      }
      if (ok !== true) return undefined;
      if (this.#verified.size >= CACHE_LIMIT) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(key, { revision, until: now + this.#cacheTtlMs });
      await this.lockout.clear(user.uid, lock.revision);
    }
    return { uid: user.uid, email: user.email, name: user.name, role: user.role };
  }

  /**
   * The same wrong password for the same login, again (a client retrying, or a CLI sending several
   * requests at once with one mistyped password), is one failure, not many: it is answered from
   * `#failed` (or joins the check in flight) without scrypt and without counting towards the lockout
   * or the client limit. A guessing attack tries different passwords, and each of those counts.
   */
  #isKnownFailure(key: string, revision: number, now: number): boolean {
    const f = this.#failed.get(key);
    return f !== undefined && f.revision === revision && f.until > now;
  }

  /** Runs one password check per key at a time; resolves true, 'failed' (counted here) or false (joined). */
  async #check(
    key: string,
    verify: () => Promise<boolean>,
    revision: number,
    now: number,
    client: string,
  ): Promise<true | 'failed' | false> {
    const inFlight = this.#inFlight.get(key);
    if (inFlight) return (await inFlight) ? true : false;
    const check = this.gate.run(verify);
    this.#inFlight.set(key, check);
    try {
      if (await check) return true;
    } finally {
      this.#inFlight.delete(key);
    }
    this.limiter.fail(client);
    if (this.#failed.size >= CACHE_LIMIT) this.#failed.delete(this.#failed.keys().next().value!);
    this.#failed.set(key, { revision, until: now + FAILED_TTL_MS });
    return 'failed';
  }

  #verifyToken(token: string): Principal | undefined {
    const claims = this.tokens.verifySync(token);
    if (!claims) return undefined;
    const found = this.users.byUid(claims.userUid);
    if (!found || found.user.status === 'locked') return undefined;
    // A password change revokes the tokens issued before it.
    if (claims.issuedAtMs < Date.parse(found.user.password_issue_date)) return undefined;
    return { uid: found.user.uid, email: found.user.email, name: found.user.name, role: found.user.role };
  }
}
