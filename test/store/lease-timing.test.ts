/**
 * Lease timing (store/lease-base.ts) under node:test's mock timers, not the wall clock: when the
 * keep-alives go out, what `safeUntil` is after an answer, that a missed answer is retried sooner and
 * never makes the lease lost, and that only the server's "no such lease" does.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';

import { BaseLease, type KeepAliveAnswer } from '../../src/store/lease-base.js';

/** A lease whose keep-alive answers the test gives, one per call. */
class ScriptedLease extends BaseLease {
  readonly sent: number[] = [];
  readonly #answers: (() => Promise<KeepAliveAnswer>)[] = [];

  constructor(ttlMs: number) {
    super('1', ttlMs, Date.now());
    this.startKeepAlive();
  }

  answerWith(...answers: ('alive' | 'gone' | 'unreachable')[]): void {
    for (const a of answers) {
      this.#answers.push(() =>
        a === 'unreachable'
          ? Promise.reject(new Error('unreachable'))
          : Promise.resolve({ alive: a === 'alive', revision: 9 }),
      );
    }
  }

  protected sendKeepAlive(): Promise<KeepAliveAnswer> {
    this.sent.push(Date.now());
    const next = this.#answers.shift();
    assert.ok(next, `a keep-alive the test did not script (sent at ${this.sent.join(', ')})`);
    return next();
  }

  protected async sendRevoke(): Promise<void> {}
}

/** Lets the keep-alive's promise callbacks run (setImmediate is not mocked). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('lease timing (mock timers)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('renews every third of the TTL and moves safeUntil to the send time plus the TTL', async () => {
    const lease = new ScriptedLease(3000);
    const renewed: number[] = [];
    lease.on('renewed', (until) => renewed.push(until));
    assert.equal(lease.safeUntil, 3000);
    lease.answerWith('alive', 'alive');
    mock.timers.tick(999);
    assert.deepEqual(lease.sent, []);
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(lease.sent, [1000]);
    assert.deepEqual(renewed, [4000]);
    assert.equal(lease.safeUntil, 4000);
    mock.timers.tick(1000);
    await settle();
    assert.deepEqual(lease.sent, [1000, 2000]);
    assert.equal(lease.safeUntil, 5000);
    lease.release();
  });

  it('retries a missed keep-alive after a quarter period, and is in doubt, not lost, past safeUntil', async () => {
    const lease = new ScriptedLease(3000);
    let lost = false;
    const missed: unknown[] = [];
    lease.on('lost', () => (lost = true));
    lease.on('missed', (err) => missed.push(err));
    lease.answerWith(...Array.from({ length: 12 }, () => 'unreachable' as const));
    mock.timers.tick(1000);
    await settle();
    assert.equal(missed.length, 1);
    mock.timers.tick(249);
    await settle();
    assert.equal(lease.sent.length, 1, 'not before a quarter period');
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(lease.sent, [1000, 1250]);
    while (Date.now() < 3000) {
      mock.timers.tick(250);
      await settle();
    }
    assert.ok(Date.now() >= lease.safeUntil, 'past the safe deadline');
    assert.equal(lease.safeUntil, 3000, 'unanswered keep-alives move nothing');
    assert.equal(lost, false, 'a lease is lost only when the server says so');
    lease.release();
  });

  it('resumes from doubt on the first answer, and is lost once when the server has no such lease', async () => {
    const lease = new ScriptedLease(300);
    const resumed: boolean[] = [];
    let lostCount = 0;
    lease.on('renewed', (_until, _rev, wasInDoubt) => resumed.push(wasInDoubt));
    lease.on('lost', () => lostCount++);
    // Keep-alives every 100 ms; after a miss, again 25 ms later: unanswered from 100 to 300.
    lease.answerWith(...Array.from({ length: 9 }, () => 'unreachable' as const), 'alive', 'gone');
    for (let t = 0; t < 600; t += 25) {
      mock.timers.tick(25);
      await settle();
    }
    assert.deepEqual(resumed, [true], 'the answer after the safe deadline says the lease had been in doubt');
    assert.equal(lostCount, 1);
    assert.equal(lease.lost, true);
    assert.equal(lease.safeUntil, 0);
    const sent = lease.sent.length;
    mock.timers.tick(10_000);
    await settle();
    assert.equal(lease.sent.length, sent, 'no keep-alives after the loss');
  });
});
