/**
 * JWTs for `Authorization: JWT <token>` (re-api.md §3.2), signed HS256 with the cluster's secret so
 * a token issued by one node is accepted by every node.
 */
import { jwtVerify, SignJWT } from 'jose';

export const defaultTokenTtlSeconds = 300;
export const maxTokenTtlSeconds = 86_400;

export class TokenService {
  constructor(private readonly secret: () => Uint8Array | undefined) {}

  async issue(userUid: number, ttlSeconds: number): Promise<string> {
    const key = this.#key();
    // `iat` has whole seconds; a password change must revoke a token issued in the same second.
    return new SignJWT({ iat_ms: Date.now() })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(userUid))
      .setIssuer('bosun')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(key);
  }

  /** Resolves the user uid of a valid token, or undefined for any invalid, expired or foreign token. */
  async verify(token: string): Promise<{ userUid: number; issuedAtMs: number } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#key(), { issuer: 'bosun', algorithms: ['HS256'] });
      const uid = Number(payload.sub);
      if (!Number.isSafeInteger(uid)) return undefined;
      const issuedAtMs = typeof payload.iat_ms === 'number' ? payload.iat_ms : (payload.iat ?? 0) * 1000;
      return { userUid: uid, issuedAtMs };
    } catch {
      return undefined;
    }
  }

  #key(): Uint8Array {
    const key = this.secret();
    if (!key) throw new Error('the cluster has no JWT secret yet');
    return key;
  }
}
