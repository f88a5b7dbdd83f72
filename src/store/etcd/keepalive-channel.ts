/**
 * One lease keep-alive stream per store, shared by its leases, with a deadline on every round trip.
 *
 * etcd renews leases only over a bidirectional stream, and streams get no call deadline: a stream on
 * a hung member would swallow keep-alives silently until the lease ran out (docs/design.md,
 * "etcd client pitfalls", 4). So each keep-alive waits for its own answer for a bounded time; on a
 * timeout the stream is dropped and the next keep-alive opens a new one, on whichever member answers.
 */
import type { IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse, LeaseClient } from 'etcd3';

import { StoreClosedError, StoreUnavailableError } from '../errors.js';

type Stream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

export interface KeepAliveResult {
  /** The TTL etcd granted; 0 when the lease no longer exists. */
  readonly ttlSeconds: number;
  /** The store's revision when etcd answered (the leader's, as keep-alives go through it). */
  readonly revision: number;
}

interface Waiter {
  resolve(result: KeepAliveResult): void;
  reject(err: Error): void;
}

class OpenStream {
  /** Answers come back in request order per lease id. */
  readonly waiters = new Map<string, Waiter[]>();
  constructor(readonly stream: Stream) {}

  failAll(err: Error): void {
    for (const list of this.waiters.values()) for (const w of list) w.reject(err);
    this.waiters.clear();
  }
}

export class KeepAliveChannel {
  #open: OpenStream | undefined;
  #opening: Promise<OpenStream> | undefined;
  #closed = false;

  constructor(private readonly leases: LeaseClient) {}

  /** Renews lease `id` once. */
  async keepAlive(id: string, timeoutMs: number): Promise<KeepAliveResult> {
    if (this.#closed) throw new StoreClosedError('store is closed');
    const open = this.#open ?? (await this.#connect());
    return new Promise<KeepAliveResult>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        // The stream's member may be hung: start afresh, perhaps elsewhere. This fails the waiter too.
        this.#drop(
          open,
          new StoreUnavailableError(`lease ${id} keep-alive got no answer in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const list = open.waiters.get(id) ?? [];
      list.push(waiter);
      open.waiters.set(id, list);
      open.stream.write({ ID: id });
    });
  }

  close(): void {
    this.#closed = true;
    if (this.#open) this.#drop(this.#open, new StoreClosedError('store is closed'));
  }

  #connect(): Promise<OpenStream> {
    this.#opening ??= this.leases.leaseKeepAlive().then(
      (stream) => {
        this.#opening = undefined;
        const open = new OpenStream(stream);
        stream.on('data', (res) => {
          const list = open.waiters.get(res.ID);
          const waiter = list?.shift();
          if (list?.length === 0) open.waiters.delete(res.ID);
          waiter?.resolve({ ttlSeconds: Number(res.TTL), revision: Number(res.header?.revision ?? 0) });
        });
        stream.on('error', (err) => {
          this.#drop(open, new StoreUnavailableError(`lease keep-alive stream failed: ${err.message}`));
        });
        stream.on('end', () => this.#drop(open, new StoreUnavailableError('lease keep-alive stream ended')));
        this.#open = open;
        if (this.#closed) this.#drop(open, new StoreClosedError('store is closed'));
        return open;
      },
      (err: unknown) => {
        // Not cached: the next keep-alive tries again, perhaps on another member.
        this.#opening = undefined;
        throw err;
      },
    );
    return this.#opening;
  }

  #drop(open: OpenStream, err: Error): void {
    if (this.#open === open) this.#open = undefined;
    open.failAll(err);
    // end() first: etcd3 counts an error on a still-writable stream against the member's health.
    try {
      open.stream.end();
      open.stream.cancel();
    } catch {
      // Already closed.
    }
  }
}
