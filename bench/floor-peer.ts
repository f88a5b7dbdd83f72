/**
 * One participant of the floor hand-over (the physical limit for `change_master`): a child process that
 * does the intent protocol of docs/design.md ("Election and hand-over") with nothing of Bosun on the path.
 *
 * - The holder writes the intent in one fenced transaction:
 *   `if mod(master) == myToken then put(transfer, {to, from_token}, lease=mine)`.
 * - The target's watch sees the intent and takes over in one transaction:
 *   `if mod(transfer) == intentRev and mod(master) == from_token then put(master, {node: me}, lease=mine),
 *   delete(transfer)`.
 * - The holder's watch sees `master` name the target: the hand-over is over. The holder times it from
 *   just before its intent transaction to that watch event, on its own clock.
 *
 * Two flavours: `etcd3` talks to etcd through the bare etcd3 client (raw gRPC requests, etcd3's own
 * lease and watch); `store` goes through Bosun's store contract (src/store, either backend), which shows
 * what the store layer itself costs.
 *
 * Driven by its parent over IPC; see FloorCommand and FloorReport.
 */
import { CompareResult, CompareTarget, Etcd3, type ICompare, type IKeyValue } from 'etcd3';

import { openStore } from '../src/store/open-store.js';
import type { Store, TxnRequest } from '../src/store/types.js';

export type FloorCommand =
  | { readonly cmd: 'campaign' }
  | { readonly cmd: 'handover'; readonly to: number; readonly seq: number }
  | { readonly cmd: 'stop' };

export type FloorReport =
  | { readonly type: 'ready'; readonly id: number }
  | { readonly type: 'campaigned'; readonly id: number; readonly won: boolean }
  | {
      readonly type: 'handedOver';
      readonly id: number;
      readonly seq: number;
      /** From just before the intent transaction to the holder's watch showing the new master, in ms. */
      readonly totalMs: number;
      /** The intent transaction's round trip, in ms. */
      readonly intentMs: number;
      /** Epoch ms (sub-ms resolution) when the intent transaction was sent. */
      readonly startedAt: number;
    }
  | {
      readonly type: 'tookOver';
      readonly id: number;
      readonly seq: number;
      /** Epoch ms when the target's watch delivered the intent, and when its take-over returned. */
      readonly sawIntentAt: number;
      readonly tookOverAt: number;
    }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

interface MasterValue {
  readonly node: number;
  readonly seq: number;
}
interface IntentValue {
  readonly to: number;
  readonly from: number;
  readonly from_token: number;
  readonly seq: number;
}

/** What the protocol needs from a backend. */
interface Backend {
  readonly leaseId: string;
  txn(req: TxnRequest): Promise<{ succeeded: boolean; revision: number }>;
  close(): Promise<void>;
}

const now = (): number => performance.timeOrigin + performance.now();

const [flavour = '', location = '', prefix = '', idArg = ''] = process.argv.slice(2);
const id = Number(idArg);
const masterKey = `${prefix}master`;
const transferKey = `${prefix}transfer`;
let token: number | undefined;
let pending: { to: number; seq: number; resolve: () => void } | undefined;

function send(report: FloorReport): void {
  process.send?.(report);
}

function onPut(key: string, value: string, modRevision: number): void {
  if (key === masterKey) {
    const master = JSON.parse(value) as MasterValue;
    if (master.node !== id) token = undefined;
    if (pending && master.node === pending.to && master.seq === pending.seq) pending.resolve();
    return;
  }
  if (key === transferKey) {
    const intent = JSON.parse(value) as IntentValue;
    if (intent.to === id) void takeOver(intent, modRevision);
  }
}

let backend: Backend;

async function takeOver(intent: IntentValue, intentRevision: number): Promise<void> {
  const sawIntentAt = now();
  const value: MasterValue = { node: id, seq: intent.seq };
  const res = await backend.txn({
    compare: [
      { key: transferKey, target: 'mod', op: '=', value: intentRevision },
      { key: masterKey, target: 'mod', op: '=', value: intent.from_token },
    ],
    success: [
      { type: 'put', key: masterKey, value: JSON.stringify(value), lease: backend.leaseId },
      { type: 'delete', key: transferKey },
    ],
  });
  if (!res.succeeded) {
    send({ type: 'error', id, message: `take-over ${intent.seq} lost its fence` });
    return;
  }
  token = res.revision;
  send({ type: 'tookOver', id, seq: intent.seq, sawIntentAt, tookOverAt: now() });
}

async function campaign(): Promise<boolean> {
  const value: MasterValue = { node: id, seq: 0 };
  const res = await backend.txn({
    compare: [{ key: masterKey, target: 'create', op: '=', value: 0 }],
    success: [{ type: 'put', key: masterKey, value: JSON.stringify(value), lease: backend.leaseId }],
  });
  if (res.succeeded) token = res.revision;
  return res.succeeded;
}

async function handOver(to: number, seq: number): Promise<void> {
  if (token === undefined) throw new Error(`peer ${id} is not the holder`);
  const intent: IntentValue = { to, from: id, from_token: token, seq };
  const seen = new Promise<void>((resolve) => (pending = { to, seq, resolve }));
  const startedAt = now();
  const res = await backend.txn({
    compare: [{ key: masterKey, target: 'mod', op: '=', value: token }],
    success: [{ type: 'put', key: transferKey, value: JSON.stringify(intent), lease: backend.leaseId }],
  });
  const intentMs = now() - startedAt;
  if (!res.succeeded) throw new Error(`peer ${id}: intent ${seq} lost its fence`);
  await seen;
  const totalMs = now() - startedAt;
  pending = undefined;
  send({ type: 'handedOver', id, seq, totalMs, intentMs, startedAt });
}

/** The bare client: raw KV requests (no builder, no namespace), etcd3's own lease and watch. */
async function bareEtcd(endpoints: string[]): Promise<Backend> {
  const client = new Etcd3({ hosts: endpoints.map((e) => `http://${e}`) });
  const lease = client.lease(3);
  const leaseId = await lease.grant();
  const start = await client.kv.range({ key: Buffer.from(prefix) });
  const watcher = await client
    .watch()
    .prefix(prefix)
    .startRevision(String(Number(start.header.revision) + 1))
    .create();
  watcher.on('put', (kv: IKeyValue) =>
    onPut(kv.key.toString('utf8'), kv.value.toString('utf8'), Number(kv.mod_revision)),
  );
  const targets: Record<string, { target: CompareTarget; field: keyof ICompare }> = {
    value: { target: CompareTarget.Value, field: 'value' },
    mod: { target: CompareTarget.Mod, field: 'mod_revision' },
    create: { target: CompareTarget.Create, field: 'create_revision' },
    version: { target: CompareTarget.Version, field: 'version' },
  };
  return {
    leaseId,
    async txn(req) {
      const res = await client.kv.txn({
        compare: req.compare.map((c): ICompare => {
          const { target, field } = targets[c.target]!;
          return { key: Buffer.from(c.key), target, result: CompareResult.Equal, [field]: c.value };
        }),
        success: req.success.map((op) =>
          op.type === 'put'
            ? {
                request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value), lease: op.lease ?? 0 },
              }
            : { request_delete_range: { key: Buffer.from(op.key) } },
        ),
        failure: [],
      });
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    },
    async close() {
      await watcher.cancel();
      await lease.revoke().catch(() => undefined);
      client.close();
    },
  };
}

/** Bosun's store contract, on either backend. */
async function viaStore(url: string): Promise<Backend> {
  const store: Store = await openStore(url);
  const lease = await store.grantLease(3000);
  const { revision } = await store.range(prefix);
  const watcher = store.watch(prefix, revision + 1, {
    onBatch: (batch) => {
      for (const ev of batch.events) if (ev.type === 'put') onPut(ev.kv.key, ev.kv.value, ev.kv.modRevision);
    },
    onError: (err) => send({ type: 'error', id, message: `watch failed: ${err.message}` }),
  });
  return {
    leaseId: lease.id,
    txn: (req) => store.txn(req),
    async close() {
      await watcher.close();
      await lease.revoke().catch(() => undefined);
      await store.close();
    },
  };
}

async function main(): Promise<void> {
  backend = flavour === 'etcd3' ? await bareEtcd(location.split(',')) : await viaStore(location);
  process.on('message', (msg: FloorCommand) => {
    const fail = (err: unknown): void =>
      send({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
    if (msg.cmd === 'campaign') {
      campaign().then((won) => send({ type: 'campaigned', id, won }), fail);
    } else if (msg.cmd === 'handover') {
      handOver(msg.to, msg.seq).catch(fail);
    } else if (msg.cmd === 'stop') {
      backend
        .close()
        .catch(() => undefined)
        .finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', id });
}

main().catch((err: unknown) => {
  send({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
