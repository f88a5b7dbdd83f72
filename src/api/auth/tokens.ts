/**
 * JWTs for `Authorization: JWT <token>` (docs/re-contract.md, "Authentication"), signed HS256 with the
 * cluster's secret so a token issued by one node is accepted by every node.
 *
 * Signed and checked with node:crypto's synchronous HMAC, on the event loop: a few microseconds. A
 * WebCrypto implementation (jose) runs HMAC on libuv's thread pool, where it queued behind scrypt
 * password checks during a bad-login flood and token requests took seconds (issue 14, finding 7).
 * The format is plain RFC 7519 compact JWS, so tokens stay interchangeable with any JWT library.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const defaultTokenTtlSeconds = 300;
export const maxTokenTtlSeconds = 86_400;

/** Longer tokens than this are not JWTs Bosun issued; refuse them before any work. */
const MAX_TOKEN_LENGTH = 4096;
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function parseJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export class TokenService {
  constructor(private readonly secret: () => Uint8Array | undefined) {}

  async issue(userUid: number, ttlSeconds: number): Promise<string> {
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    // `iat` has whole seconds; a password change must revoke a token issued in the same second.
    const payload = { iat_ms: nowMs, sub: String(userUid), iss: 'bosun', iat: now, exp: now + ttlSeconds };
    const body = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${body}.${this.#sign(body).toString('base64url')}`;
  }

  /** Resolves the user uid of a valid token, or undefined for any invalid, expired or foreign token. */
  async verify(token: string): Promise<{ userUid: number; issuedAtMs: number } | undefined> {
    return this.verifySync(token);
  }

  verifySync(token: string): { userUid: number; issuedAtMs: number } | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    // Only HS256: `alg: none` and every other algorithm are refused, whatever the header says.
    const header = parseJson(headerPart);
    if (!header || header.alg !== 'HS256') return undefined;
    const key = this.secret();
    if (!key) return undefined;
    const expected = this.#sign(`${headerPart}.${payloadPart}`, key);
    const actual = Buffer.from(signaturePart, 'base64url');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    const payload = parseJson(payloadPart);
    if (!payload || payload.iss !== 'bosun') return undefined;
    const nowSeconds = Date.now() / 1000;
    if (typeof payload.exp !== 'number' || payload.exp <= nowSeconds) return undefined;
    if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds) return undefined;
    const uid =
      typeof payload.sub === 'string' && /^[0-9]{1,15}$/.test(payload.sub) ? Number(payload.sub) : NaN;
    if (!Number.isSafeInteger(uid)) return undefined;
    const iat = typeof payload.iat === 'number' ? payload.iat : 0;
    const issuedAtMs = typeof payload.iat_ms === 'number' ? payload.iat_ms : iat * 1000;
    return { userUid: uid, issuedAtMs };
  }

  #sign(data: string, key: Uint8Array | undefined = this.secret()): Buffer {
    if (!key) throw new Error('the cluster has no JWT secret yet');
    return createHmac('sha256', key).update(data).digest();
  }
}
