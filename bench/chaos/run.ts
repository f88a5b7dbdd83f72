/**
 * `npm run chaos -- --store sqlite|etcd --minutes N`: 3 real nodes (plus a real 3-member etcd, each
 * node reaching each member through its own TCP proxy) under continuous change_master, DELETE and
 * user churn while faults land one after another (faults.ts). At the end every fault is healed, the
 * runs are left to finish, the store's whole history of the cluster prefix is replayed, and the
 * invariants are judged (checker.ts). Prints a summary; exits 1 on any violation.
 *
 * Options: --ttl <ms> (lease TTL, default 3000), --faults <kind,...> (default: every kind the store
 * has), --grace <ms> (how long after a fault's recovery a 503 is still excused; default 2 TTL),
 * --json <file> (write the figures there too), --strict (503s outside any fault fail the run too;
 * by default they are reported as availability findings, since CPU starvation of a shared machine
 * can put a lease in honest doubt with no fault injected).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { EtcdCluster } from '../../test/helpers/etcd-cluster.js';
import { ProcessCluster } from '../../test/helpers/process-cluster.js';
import { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { sleep } from '../lib/cluster.js';
import { check, fmt, HistoryChecker } from './checker.js';
import { FaultInjector } from './faults.js';
import { Journal, type FaultKind, type FaultWindow } from './journal.js';
import { Workload } from './workload.js';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    minutes: { type: 'string', default: '2' },
    ttl: { type: 'string', default: '3000' },
    faults: { type: 'string' },
    grace: { type: 'string' },
    json: { type: 'string' },
    strict: { type: 'boolean', default: false },
  },
});

const NODE_FAULTS: FaultKind[] = ['node_kill', 'master_kill', 'node_pause', 'master_pause'];
const ETCD_FAULTS: FaultKind[] = [
  'member_kill',
  'leader_kill',
  'quorum_loss',
  'partition_full',
  'partition_replies',
  'partition_full',
  'partition_replies',
];
const PREFIX = '/bosun/';

async function main(): Promise<number> {
  const kind = values.store;
  if (kind !== 'sqlite' && kind !== 'etcd') throw new Error('--store must be sqlite or etcd');
  const minutes = Number(values.minutes);
  const ttl = Number(values.ttl);
  const graceMs = values.grace ? Number(values.grace) : 2 * ttl;
  const kinds = values.faults
    ? (values.faults.split(',') as FaultKind[])
    : kind === 'etcd'
      ? [...NODE_FAULTS, ...ETCD_FAULTS]
      : NODE_FAULTS;

  let etcd: EtcdCluster | undefined;
  const proxies = new Map<number, TcpProxy[]>();
  let namespace = '';
  if (kind === 'etcd') {
    // etcd's own raft timers (100 ms heartbeat, 1 s election), as an operator runs it.
    etcd = await EtcdCluster.start({ size: 3, heartbeatMs: 100, electionMs: 1000 });
    namespace = `/chaos-${randomBytes(4).toString('hex')}`;
    for (const uid of [1, 2, 3]) {
      proxies.set(uid, await Promise.all(etcd.members.map((m) => TcpProxy.start({ port: m.clientPort }))));
    }
  }
  const storeFor = (uid: number): string | undefined => {
    const list = proxies.get(uid);
    return list
      ? `etcd://${list.map((p) => p.endpoint).join(',')}?prefix=${encodeURIComponent(namespace)}`
      : undefined;
  };
  const cluster = await ProcessCluster.start({
    ...(etcd ? { store: etcd.url(namespace), storeFor } : {}),
    leaseTtlMs: ttl,
    handoverTimeoutMs: 5000,
  });
  console.log(`chaos: ${kind}, 3 nodes, TTL ${ttl} ms, ${minutes} min; data and logs in ${cluster.dataDir}`);
  console.log(`chaos: faults ${[...new Set(kinds)].join(', ')}`);

  const history = new HistoryChecker(PREFIX);
  const journal = new Journal();
  // SQLite keeps a bounded history, so the checker watches it live from the first revision; etcd
  // keeps all of it (no compaction here), so it is replayed from revision 1 at the end.
  let liveStore: Store | undefined;
  if (kind === 'sqlite') {
    liveStore = await openStore(`sqlite:${join(cluster.dataDir, 'bosun.db')}`, { pollIntervalMs: 20 });
    liveStore.watch(PREFIX, 1, {
      onBatch: (b) => history.apply(b),
      onError: (err) => history.violations.push(`the checker's watch of the history broke: ${err.message}`),
    });
  }

  const workload = new Workload(cluster, journal);
  const faults = new FaultInjector({ cluster, etcd, proxies, journal, workload, kinds, store: kind });
  const began = Date.now();
  workload.start();
  faults.start();
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const endAt = began + minutes * 60_000;
  let nextReport = began + 60_000;
  while (Date.now() < endAt && !interrupted) {
    await sleep(500);
    if (Date.now() >= nextReport) {
      nextReport += 60_000;
      console.log(
        `chaos: ${Math.round((Date.now() - began) / 60_000)} min, ${journal.requests} requests, ` +
          `${journal.acceptedRuns.size} runs, ${journal.faults.length} faults`,
      );
    }
  }
  await faults.stop();
  await faults.heal();
  // Let the cluster settle and every accepted run finish, with the workload's reads still going.
  const settleUntil = Date.now() + 60_000;
  const store = liveStore ?? (await openStore(etcd!.url(namespace)));
  for (;;) {
    const { kvs } = await store.range(`${PREFIX}actions/`).catch(() => ({ kvs: [] }));
    const stored = new Map(
      kvs.map((kv) => [kv.key.slice(`${PREFIX}actions/`.length), JSON.parse(kv.value) as { status: string }]),
    );
    const pending = [...journal.acceptedRuns.keys()].filter((uid) => {
      const s = stored.get(uid)?.status;
      return s !== 'completed' && s !== 'failed' && s !== 'cancelled';
    });
    if (pending.length === 0 || Date.now() > settleUntil) break;
    await sleep(500);
  }
  await workload.stop();

  if (!liveStore) {
    // Replay etcd's whole history of the prefix, up to the revision read now. (This etcd holds only
    // this cluster, so its revision is the prefix's last; the quiet timeout covers anything else.)
    const { revision } = await store.range(PREFIX);
    await new Promise<void>((resolve, reject) => {
      let quiet: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(quiet);
        void w.close().then(resolve);
      };
      const arm = (): void => {
        clearTimeout(quiet);
        quiet = setTimeout(done, 3000);
      };
      const w = store.watch(PREFIX, 1, {
        onBatch: (b) => {
          history.apply(b);
          if (b.revision >= revision) done();
          else arm();
        },
        onError: reject,
      });
      arm();
    });
  } else {
    await sleep(500);
  }
  // The users as the store holds them now.
  const { kvs: emails } = await store.range(`${PREFIX}user-emails/`);
  history.users.clear();
  for (const kv of emails) history.users.set(kv.key.slice(`${PREFIX}user-emails/`.length), kv.value);

  const result = check(journal, history, graceMs);
  printSummary(kind, ttl, graceMs, Date.now() - began, faults.counts, journal, result);
  if (values.json)
    writeFileSync(
      values.json,
      JSON.stringify(
        {
          kind,
          ttl,
          figures: result.figures,
          violations: result.violations,
          availability: result.availability,
          faults: journal.faults,
        },
        null,
        2,
      ),
    );

  await store.close();
  workload.http.close();
  const failed = result.violations.length > 0 || (values.strict && result.availability.length > 0);
  if (!failed) await cluster.destroy();
  else {
    await cluster.stop();
    console.log(`chaos: logs kept in ${cluster.dataDir}/logs`);
  }
  for (const list of proxies.values()) for (const p of list) await p.close();
  await etcd?.stop();
  return failed ? 1 : 0;
}

/** Per fault: time to the next node saying master, the longest headless stretch, and recovery. */
function faultFigures(
  journal: Journal,
  w: FaultWindow,
  graceMs: number,
): { failover?: number; headless: number; recovery?: number; unavailable: number } {
  const end = w.recoveredAt ?? w.end ?? Date.now();
  const last503 = journal.answers
    .filter((a) => a.status === 503 && a.sentAt >= w.start && a.sentAt <= end + graceMs)
    .reduce((m, a) => Math.max(m, a.receivedAt), w.start);
  const rounds = journal.rounds.filter((r) => r.length > 0 && r[0]!.sentAt >= w.start && r[0]!.sentAt <= end);
  let headless = 0;
  let since: number | undefined;
  for (const r of rounds) {
    const t = r[0]!.sentAt;
    if (r.some((s) => s.isMaster)) {
      if (since !== undefined) headless = Math.max(headless, t - since);
      since = undefined;
    } else since ??= t;
  }
  if (since !== undefined) headless = Math.max(headless, end - since);
  const hit = new Set(w.nodes);
  const next = journal.samples.find((s) => s.sentAt >= w.start && s.isMaster && !hit.has(s.node));
  return {
    ...(next && w.masterBefore !== undefined && hit.has(w.masterBefore)
      ? { failover: next.receivedAt - w.start }
      : {}),
    headless,
    unavailable: last503 - w.start,
    ...(w.recoveredAt ? { recovery: w.recoveredAt - (w.end ?? w.start) } : {}),
  };
}

function printSummary(
  kind: string,
  ttl: number,
  graceMs: number,
  elapsed: number,
  counts: Map<FaultKind, number>,
  journal: Journal,
  result: ReturnType<typeof check>,
): void {
  console.log(`\n=== chaos summary: ${kind}, TTL ${ttl} ms, ${(elapsed / 60_000).toFixed(1)} min ===`);
  console.log(
    `faults injected: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')} (total ${journal.faults.length})`,
  );
  for (const [k, v] of Object.entries(result.figures)) console.log(`${k}: ${v}`);
  const byKind = new Map<FaultKind, FaultWindow[]>();
  for (const w of journal.faults) byKind.set(w.kind, [...(byKind.get(w.kind) ?? []), w]);
  for (const [k, windows] of byKind) {
    const figs = windows.map((w) => faultFigures(journal, w, graceMs));
    const failovers = figs.flatMap((f) => (f.failover !== undefined ? [f.failover] : []));
    console.log(
      `  ${k}: failover (fault -> another node says master) ${fmt(failovers)}; ` +
        `longest headless ${fmt(figs.map((f) => f.headless))}; ` +
        `503s until (from the fault's start) ${fmt(figs.map((f) => f.unavailable))}; ` +
        `recovered after the fault ended ${fmt(figs.flatMap((f) => (f.recovery !== undefined ? [f.recovery] : [])))}`,
    );
    const store = windows.filter(
      (w) => w.storeHealthyAt !== undefined && w.end !== undefined && w.recoveredAt !== undefined,
    );
    if (store.length > 0) {
      console.log(
        `    etcd's share (members restarted -> etcd healthy) ${fmt(store.map((w) => w.storeHealthyAt! - w.end!))}; ` +
          `Bosun's share (etcd healthy -> every node serves, one master) ${fmt(store.map((w) => Math.max(0, w.recoveredAt! - w.storeHealthyAt!)))}`,
      );
    }
  }
  if (result.notes.length > 0) {
    console.log(`notes (${result.notes.length}, not violations):`);
    for (const n of result.notes.slice(0, 20)) console.log(`  ${n}`);
  }
  console.log(
    `availability findings (503 outside any fault; fail only with --strict): ${result.availability.length}`,
  );
  for (const a of result.availability.slice(0, 20)) console.log(`  ${a}`);
  console.log(`violations: ${result.violations.length}`);
  for (const v of result.violations.slice(0, 50)) console.log(`  ${v}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
