/**
 * The pieces behind findings 6 and 7, one at a time: the password gate, the per-client limiter, the
 * lockout arithmetic (with RE's defaults) and synchronous HS256 tokens.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { jwtVerify, SignJWT } from 'jose';

import { ClientLimiter } from '../../src/api/auth/client-limiter.js';
import { PasswordGate } from '../../src/api/auth/password-gate.js';
import { Tarpit } from '../../src/api/auth/tarpit.js';
import { TokenService } from '../../src/api/auth/tokens.js';
import { BosunError } from '../../src/errors/catalogue.js';
import { afterFailure, defaultLockoutSettings, lockoutSettings, lockState } from '../../src/users/lockout.js';

describe('PasswordGate (finding 7)', () => {
  it('runs at most maxActive checks at once, queues maxQueued, sheds the rest with 503 server_busy', async () => {
    const gate = new PasswordGate({ maxActive: 2, maxQueued: 3 });
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const check = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => release.push(r));
        running--;
        return true;
      });
    const accepted = Array.from({ length: 5 }, check);
    const shed = await check().then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(shed instanceof BosunError);
    assert.equal(shed.code, 'server_busy');
    assert.equal(shed.retryAfterSeconds, 1);
    assert.equal(gate.shed, 1);
    while (release.length > 0 || running > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(accepted), [true, true, true, true, true]);
    assert.equal(peak, 2);
    assert.equal(gate.active, 0);
  });

  it('frees its slot when a check throws', async () => {
    const gate = new PasswordGate({ maxActive: 1, maxQueued: 0 });
    await assert.rejects(
      gate.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await gate.run(async () => 7), 7);
  });
});

describe('Tarpit (finding 7)', () => {
  it('holds refusals, but never more than maxHeld at once: beyond that they go at once', async () => {
    const tarpit = new Tarpit({ delayMs: 200, maxHeld: 1 });
    const order: string[] = [];
    const held = tarpit.hold().then(() => order.push('held'));
    const over = tarpit.hold().then(() => order.push('over the bound'));
    await Promise.all([held, over]);
    assert.deepEqual(order, ['over the bound', 'held']);
  });
});

describe('ClientLimiter (finding 6)', () => {
  it('refuses a client after `limit` failures in the window, with Retry-After; others and later are fine', () => {
    const l = new ClientLimiter({ limit: 3, windowMs: 60_000 });
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      l.check('a', t0);
      l.fail('a', t0);
    }
    const err = (() => {
      try {
        l.check('a', t0 + 10_000);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof BosunError && err.code === 'too_many_requests');
    assert.equal(err.retryAfterSeconds, 50);
    l.check('b', t0 + 10_000);
    l.check('a', t0 + 60_000);
  });

  it('0 turns it off; it forgets clients rather than grow without bound', () => {
    const off = new ClientLimiter({ limit: 0 });
    for (let i = 0; i < 100; i++) off.fail('a');
    off.check('a');
    const small = new ClientLimiter({ limit: 1, maxClients: 10 });
    for (let i = 0; i < 1000; i++) small.fail(`c${i}`, 0);
    small.check('c0', 0);
  });
});

describe('lockout arithmetic (finding 6): RE defaults 5 failures / 15 min → locked 30 min', () => {
  const s = defaultLockoutSettings;
  it('has RE defaults and reads RE setting names from the cluster config', () => {
    assert.deepEqual(s, { threshold: 5, counterResetAfterMs: 900_000, durationMs: 1_800_000 });
    assert.deepEqual(
      lockoutSettings({
        name: 'x',
        uid: 'u',
        created_time: 0,
        login_lockout_threshold: 10,
        login_lockout_counter_reset_after: 3600,
        login_lockout_duration: 0,
      }),
      { threshold: 10, counterResetAfterMs: 3_600_000, durationMs: 0 },
    );
  });

  it('locks at the fifth failure within the window, for 30 minutes, then unlocks by itself', () => {
    let r = undefined as ReturnType<typeof afterFailure> | undefined;
    for (let i = 0; i < 4; i++) r = afterFailure(r, 1000 + i, s);
    assert.equal(lockState(r, 2000).locked, false);
    r = afterFailure(r, 2000, s);
    assert.deepEqual(lockState(r, 2000), { locked: true, retryAfterSeconds: 1800 });
    assert.equal(lockState(r, 2000 + 1_800_000).locked, false);
    // After the lock ran out, counting starts over.
    assert.equal(afterFailure(r, 2000 + 1_800_001, s).failures, 1);
  });

  it('failures further apart than the window start a new count', () => {
    let r = undefined as ReturnType<typeof afterFailure> | undefined;
    for (let i = 0; i < 4; i++) r = afterFailure(r, i * 1000, s);
    r = afterFailure(r, 900_001 + 4000, s);
    assert.equal(r.failures, 1);
    assert.equal(lockState(r, 905_000).locked, false);
  });

  it('duration 0 locks until an admin sets a password; threshold 0 never locks', () => {
    let r = undefined as ReturnType<typeof afterFailure> | undefined;
    for (let i = 0; i < 5; i++) r = afterFailure(r, i, { ...s, durationMs: 0 });
    assert.deepEqual(lockState(r, 10 ** 12), { locked: true });
    let q = undefined as ReturnType<typeof afterFailure> | undefined;
    for (let i = 0; i < 50; i++) q = afterFailure(q, i, { ...s, threshold: 0 });
    assert.equal(lockState(q, 50).locked, false);
  });
});

describe('TokenService: synchronous HS256 (finding 7)', () => {
  const secret = new TextEncoder().encode('a-cluster-secret-of-32-bytes-or-more!!');
  const tokens = new TokenService(() => secret);

  it('issues tokens any JWT library verifies, and verifies tokens a JWT library signs', async () => {
    const token = await tokens.issue(42, 300);
    const { payload } = await jwtVerify(token, secret, { issuer: 'bosun', algorithms: ['HS256'] });
    assert.equal(payload.sub, '42');
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('7')
      .setIssuer('bosun')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    assert.equal(tokens.verifySync(foreign)?.userUid, 7);
  });

  it('refuses expired, wrongly signed, alg none/HS512, wrong issuer and garbage tokens', async () => {
    const sign = (header: object, payload: object, key = secret) =>
      new SignJWT(payload as Record<string, unknown>).setProtectedHeader(header as { alg: string }).sign(key);
    const now = Math.floor(Date.now() / 1000);
    const base = { sub: '1', iss: 'bosun', iat: now, exp: now + 60 };
    const bad = [
      await sign({ alg: 'HS256' }, { ...base, exp: now - 1 }),
      await sign({ alg: 'HS256' }, base, new TextEncoder().encode('another-secret-another-secret-another')),
      await sign({ alg: 'HS512' }, base),
      await sign({ alg: 'HS256' }, { ...base, iss: 'someone' }),
      await sign({ alg: 'HS256' }, { ...base, sub: 'admin' }),
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(base)).toString('base64url')}.`,
      'a.b.c',
      'not-a-token',
      'x'.repeat(10_000),
    ];
    for (const token of bad) assert.equal(tokens.verifySync(token), undefined, token.slice(0, 60));
    assert.equal(tokens.verifySync(await sign({ alg: 'HS256' }, base))?.userUid, 1);
  });
});
