/**
 * Diagnostics preload (`node --import .../store-trace.js`): records every store call a node process
 * makes (get, range, txn, lease grant) and every watch batch it receives, with high-resolution epoch
 * times, into `$BOSUN_STORE_TRACE_DIR/trace-<pid>.jsonl`. Patching the two backends' prototypes reaches
 * every store the node opens, with no change to src.
 *
 * Lines are buffered and appended every 50 ms (synchronously), so a node killed with SIGKILL loses at most
 * the last 50 ms.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

import { EtcdStore } from '../../src/store/etcd/etcd-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Op, Store, TxnRequest, WatchBatch, WatchHandlers } from '../../src/store/types.js';

export interface TraceLine {
  readonly pid: number;
  /** Epoch ms, sub-ms resolution, when the call started (or the batch arrived). */
  readonly t: number;
  readonly kind: 'get' | 'range' | 'txn' | 'grantLease' | 'watch';
  /** The call's duration, in ms (0 for watch batches). */
  readonly ms: number;
  readonly keys: readonly string[];
  readonly ok: boolean;
  readonly succeeded?: boolean;
  readonly revision?: number;
}

const dir = process.env.BOSUN_STORE_TRACE_DIR;
const file = dir ? join(dir, `trace-${process.pid}.jsonl`) : undefined;
let buffer: string[] = [];
const now = (): number => performance.timeOrigin + performance.now();

function flush(): void {
  if (!file || buffer.length === 0) return;
  appendFileSync(file, buffer.join(''));
  buffer = [];
}

function record(line: Omit<TraceLine, 'pid'>): void {
  buffer.push(JSON.stringify({ pid: process.pid, ...line }) + '\n');
}

if (file) {
  setInterval(flush, 50).unref();
  process.on('exit', flush);

  const opKeys = (ops: readonly Op[] | undefined): string[] => (ops ?? []).map((o) => `${o.type}:${o.key}`);
  const txnKeys = (req: TxnRequest): string[] => [
    ...req.compare.map((c) => `if:${c.key}.${c.target}${c.op}`),
    ...opKeys(req.success),
  ];

  for (const proto of [EtcdStore.prototype, SqliteStore.prototype] as unknown as Store[]) {
    // The originals are called with their own instance (`fn.apply(this, ...)`), never unbound.
    /* eslint-disable @typescript-eslint/unbound-method */
    const original = {
      get: proto.get,
      range: proto.range,
      txn: proto.txn,
      grantLease: proto.grantLease,
      watch: proto.watch,
    };
    /* eslint-enable @typescript-eslint/unbound-method */
    const timed = <A extends unknown[], R>(
      kind: TraceLine['kind'],
      fn: (this: Store, ...args: A) => Promise<R>,
      keys: (...args: A) => string[],
      extra: (r: R) => Partial<TraceLine> = () => ({}),
    ) =>
      async function (this: Store, ...args: A): Promise<R> {
        const t = now();
        try {
          const r = await fn.apply(this, args);
          record({ t, kind, ms: now() - t, keys: keys(...args), ok: true, ...extra(r) });
          return r;
        } catch (err) {
          record({ t, kind, ms: now() - t, keys: keys(...args), ok: false });
          throw err;
        }
      };
    proto.get = timed('get', original.get, (k: string) => [k]);
    proto.range = timed(
      'range',
      original.range,
      (p: string) => [p],
      (r) => ({ revision: r.revision }),
    );
    proto.txn = timed('txn', original.txn, txnKeys, (r) => ({
      succeeded: r.succeeded,
      revision: r.revision,
    }));
    proto.grantLease = timed('grantLease', original.grantLease, () => []);
    proto.watch = function (this: Store, prefix: string, from: number, handlers: WatchHandlers) {
      return original.watch.call(this, prefix, from, {
        onError: handlers.onError,
        onBatch: (batch: WatchBatch) => {
          record({
            t: now(),
            kind: 'watch',
            ms: 0,
            keys: batch.events.map((e) => `${e.type}:${e.kv.key}`),
            ok: true,
            revision: batch.revision,
          });
          handlers.onBatch(batch);
        },
      });
    };
  }
}
