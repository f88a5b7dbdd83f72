/**
 * The floor: the same intent hand-over as `change_master`, done by three bare peer processes
 * (floor-peer.ts) with no Bosun in the path. See floor-peer.ts for the protocol and its clock.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import type { FloorCommand, FloorReport } from './floor-peer.js';

const peerScript = fileURLToPath(new URL('./floor-peer.js', import.meta.url));

export type FloorFlavour = 'etcd3' | 'store';

export interface FloorRun {
  readonly seq: number;
  readonly from: number;
  readonly to: number;
  /** Intent write to the old holder's watch showing the new master, in ms. */
  readonly totalMs: number;
  readonly intentMs: number;
  /** Intent sent to the target's watch delivering it, in ms (two processes' clocks). */
  readonly intentSeenMs: number;
  /** Intent sent to the target's take-over transaction returning, in ms. */
  readonly takenOverMs: number;
}

interface Waiter {
  readonly match: (r: FloorReport) => boolean;
  readonly resolve: (r: FloorReport) => void;
}

export class FloorCluster {
  readonly #peers: ChildProcess[] = [];
  #waiters: Waiter[] = [];
  #holder = 0;
  #seq = 0;
  #errors: string[] = [];

  private constructor(
    readonly flavour: FloorFlavour,
    readonly label: string,
  ) {}

  /**
   * `location`: for `etcd3`, comma-separated `host:port` endpoints; for `store`, a store URL (etcd or
   * SQLite). Each floor cluster uses a fresh key prefix.
   */
  static async start(
    flavour: FloorFlavour,
    location: string,
    label: string,
    peers = 3,
  ): Promise<FloorCluster> {
    const floor = new FloorCluster(flavour, label);
    const prefix = `/floor-${randomBytes(4).toString('hex')}/`;
    for (let id = 1; id <= peers; id++) {
      const child = fork(peerScript, [flavour, location, prefix, String(id)], { stdio: 'inherit' });
      child.on('message', (r: FloorReport) => floor.#onReport(r));
      floor.#peers.push(child);
    }
    await Promise.all(
      floor.#peers.map((_, i) => floor.#wait((r) => r.type === 'ready' && r.id === i + 1, 30_000)),
    );
    floor.#send(1, { cmd: 'campaign' });
    const won = await floor.#wait((r) => r.type === 'campaigned' && r.id === 1);
    if (won.type !== 'campaigned' || !won.won) throw new Error('floor peer 1 could not take the master key');
    floor.#holder = 1;
    return floor;
  }

  get errors(): readonly string[] {
    return this.#errors;
  }

  /** One hand-over from the current holder to `to` (default: a random other peer). */
  async handOver(to?: number): Promise<FloorRun> {
    const from = this.#holder;
    const others = this.#peers.map((_, i) => i + 1).filter((id) => id !== from);
    const target = to ?? others[Math.floor(Math.random() * others.length)]!;
    const seq = ++this.#seq;
    const done = this.#wait((r) => r.type === 'handedOver' && r.seq === seq);
    const taken = this.#wait((r) => r.type === 'tookOver' && r.seq === seq);
    this.#send(from, { cmd: 'handover', to: target, seq });
    const [d, t] = await Promise.all([done, taken]);
    if (d.type !== 'handedOver' || t.type !== 'tookOver') throw new Error('unexpected floor report');
    this.#holder = target;
    return {
      seq,
      from,
      to: target,
      totalMs: d.totalMs,
      intentMs: d.intentMs,
      intentSeenMs: t.sawIntentAt - d.startedAt,
      takenOverMs: t.tookOverAt - d.startedAt,
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#peers.map(
        (p, i) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
            p.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            this.#send(i + 1, { cmd: 'stop' });
          }),
      ),
    );
  }

  #send(id: number, cmd: FloorCommand): void {
    this.#peers[id - 1]!.send(cmd);
  }

  #onReport(r: FloorReport): void {
    if (r.type === 'error') {
      this.#errors.push(`peer ${r.id}: ${r.message}`);
      return;
    }
    const waiter = this.#waiters.find((w) => w.match(r));
    if (!waiter) return;
    this.#waiters = this.#waiters.filter((w) => w !== waiter);
    waiter.resolve(r);
  }

  #wait(match: (r: FloorReport) => boolean, timeoutMs = 10_000): Promise<FloorReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`floor (${this.label}): no answer in ${timeoutMs} ms; ${this.#errors.join('; ')}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.#waiters.push(waiter);
    });
  }
}
