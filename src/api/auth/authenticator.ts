/**
 * Turns an `Authorization` header into a principal: HTTP Basic (email and password) or
 * `JWT <token>` (re-api.md §3.1, §3.2).
 *
 * scrypt is slow on purpose (tens of ms), and Redis Enterprise clients send Basic credentials on every
 * request. So a successful check is remembered under an HMAC of the credentials (never the password
 * itself), valid only while the user record is unchanged: a password or role change invalidates it.
 */
import { createHmac, randomBytes } from 'node:crypto';

import { hashPassword, verifyPassword } from '../../users/passwords.js';
import type { Role } from '../../users/roles.js';
import type { UserDirectory } from '../../users/user-directory.js';
import type { TokenService } from './tokens.js';

export interface Principal {
  readonly uid: number;
  /** Empty for a user who signs in by name. */
  readonly email: string;
  readonly name: string;
  readonly role: Role;
}

const CACHE_LIMIT = 10_000;

export class Authenticator {
  readonly #verified = new Map<string, number>();
  readonly #cacheKey = randomBytes(32);
  #dummyHash: Promise<string> | undefined;

  constructor(
    private readonly users: UserDirectory,
    private readonly tokens: TokenService,
  ) {}

  async authenticate(header: string | undefined): Promise<Principal | undefined> {
    if (!header) return undefined;
    const space = header.indexOf(' ');
    if (space < 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      return this.verifyCredentials(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    if (scheme === 'jwt' || scheme === 'bearer') return this.#verifyToken(value);
    return undefined;
  }

  /** `login` is an email or a user name: Redis Enterprise signs users in by either. */
  async verifyCredentials(login: string, password: string): Promise<Principal | undefined> {
    const found = this.users.byLogin(login);
    // A locked account signs in with nothing, as on RE (`status: locked`).
    if (!found || found.user.status === 'locked') {
      // Spend the same time as a real check, so response times do not reveal which emails exist.
      this.#dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password, await this.#dummyHash);
      return undefined;
    }
    const key = createHmac('sha256', this.#cacheKey)
      .update(login.toLowerCase())
      .update('\0')
      .update(password)
      .digest('base64');
    if (this.#verified.get(key) !== found.revision) {
      if (!(await verifyPassword(password, found.user.password_hash))) return undefined;
      if (this.#verified.size >= CACHE_LIMIT) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(key, found.revision);
    }
    return { uid: found.user.uid, email: found.user.email, name: found.user.name, role: found.user.role };
  }

  async #verifyToken(token: string): Promise<Principal | undefined> {
    const claims = await this.tokens.verify(token);
    if (!claims) return undefined;
    const found = this.users.byUid(claims.userUid);
    if (!found || found.user.status === 'locked') return undefined;
    // A password change revokes the tokens issued before it.
    if (claims.issuedAtMs < Date.parse(found.user.password_issue_date)) return undefined;
    return { uid: found.user.uid, email: found.user.email, name: found.user.name, role: found.user.role };
  }
}
