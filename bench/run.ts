/**
 * `npm run bench`: every benchmark, side by side on one machine, then BENCHMARKS.md.
 *
 *   npm run bench                      # quick mode (a few minutes)
 *   npm run bench -- --full            # full mode (more runs, longer loads)
 *   npm run bench -- --only handover,api
 *   npm run bench -- --no-report       # results JSON only
 *   npm run bench -- --full --diagnostics
 *   npm run bench -- --only metrics --baseline /path/to/other/build/bin/bosun.js
 *   npm run bench -- --only versus --baseline /path/to/other/build/bin/bosun.js   # before/after a change
 *
 * Sections: handover, failover, api (GET load, bare Fastify, memory, POST contention), scale, login-flood
 * (token and cached-credential latency under a wrong-password flood; BOSUN_BENCH_BASELINE_BIN names a
 * pre-fix build to run side by side), metrics (the per-scrape cost of /metrics, and the hand-over with
 * metrics on against off), dashboard (page weight, and master change to DOM against the CLI's polling); and the
 * diagnostics, which run with --diagnostics or when named in --only: trace (every store call along a
 * hand-over), profile (CPU profiles of a node listing 10,000 runs and under GET load) and memory (where
 * an idle node's RSS goes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { runApi, type ApiSettings } from './api.js';
import { runDashboard, type DashboardSettings } from './dashboard.js';
import { runMemoryDiag } from './diag/memory.js';
import { runProfiles } from './diag/profile.js';
import { traceStore, type TraceResult } from './diag/trace.js';
import { failoverOnStore, type FailoverSettings, type StoreFailoverResult } from './failover.js';
import { handoverOnStore, type HandoverSettings, type StoreHandoverResult } from './handover.js';
import { startEtcd } from './lib/cluster.js';
import { machineInfo } from './lib/machine.js';
import { runHistory, type HistorySettings } from './history.js';
import { liveOnStore, type LiveSettings, type LiveStoreResult } from './live.js';
import { runLoginFlood, type LoginFloodSettings } from './login-flood.js';
import { resultsDir, writeResult, type SectionResult } from './lib/results.js';
import { runMetrics, type MetricsSettings } from './metrics.js';
import { runScale, type ScaleSettings } from './scale.js';
import { runVersus, type VersusSettings } from './versus.js';

export type Mode = 'quick' | 'full';

const SECTIONS = [
  'handover',
  'failover',
  'api',
  'scale',
  'login-flood',
  'metrics',
  'history',
  'dashboard',
  'live',
] as const;
const DIAGNOSTICS = ['trace', 'profile', 'memory'] as const;
// Run only when named: it needs another build (--baseline).
const COMPARISONS = ['versus'] as const;
type Section = (typeof SECTIONS)[number] | (typeof DIAGNOSTICS)[number] | (typeof COMPARISONS)[number];

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    'etcd-no-fsync': { type: 'boolean', default: false },
    diagnostics: { type: 'boolean', default: false },
    // The metrics section's "before" leg: another build's bin/bosun.js (e.g. main's, built elsewhere).
    baseline: { type: 'string' },
  },
});

const mode: Mode = values.full ? 'full' : 'quick';
const wanted = new Set<string>(
  values.only
    ? values.only.split(',').map((s) => s.trim())
    : [...SECTIONS, ...(values.diagnostics ? DIAGNOSTICS : [])],
);
for (const s of wanted) {
  if (![...SECTIONS, ...DIAGNOSTICS, ...COMPARISONS].includes(s as Section)) {
    console.error(`unknown section ${s}; known: ${[...SECTIONS, ...DIAGNOSTICS, ...COMPARISONS].join(', ')}`);
    process.exit(2);
  }
}

// Ctrl-C or SIGTERM: exit through process.exit, so the helpers' exit hooks stop every node and etcd member
// this run started (registered first, before the etcd helper's own signal handler re-raises the signal).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the benchmark's nodes and etcd`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const started = Date.now();
function log(line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[${s}s] ${line}`);
}

let etcd: EtcdCluster | undefined;
async function sharedEtcd(): Promise<EtcdCluster> {
  etcd ??= await startEtcd({ fsync: !values['etcd-no-fsync'] });
  return etcd;
}

async function section<T>(
  name: string,
  settings: Record<string, unknown>,
  body: () => Promise<T>,
): Promise<SectionResult<T>> {
  log(`${name}: starting (${mode})`);
  const machine = machineInfo();
  const t0 = Date.now();
  const results = await body();
  const result: SectionResult<T> = {
    section: name,
    mode,
    machine,
    durationS: Math.round((Date.now() - t0) / 1000),
    settings,
    results,
  };
  const path = writeResult(result);
  log(`${name}: done in ${result.durationS} s, ${path}`);
  return result;
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'bosun-bench-'));
  try {
    if (wanted.has('handover')) {
      const settings: HandoverSettings = {
        runs: mode === 'full' ? 200 : 50,
        warmup: 3,
        pollMs: 1,
        settleMs: 20,
      };
      const e = await sharedEtcd();
      await section('handover', { ...settings, etcdFsync: !values['etcd-no-fsync'] }, async () => {
        const out: StoreHandoverResult[] = [];
        for (const kind of ['sqlite', 'etcd'] as const) {
          out.push(await handoverOnStore(kind, e, `sqlite:${join(scratch, 'floor.db')}`, settings, log));
        }
        return out;
      });
    }
    if (wanted.has('failover')) {
      const settings: FailoverSettings = {
        runs: mode === 'full' ? 20 : 5,
        leaseTtlMs: 3000,
        pollMs: 2,
        // Today's lease-expiry failover first, then the fast path, on the same machine in the same run.
        modes: ['off', 'on', 'port'],
      };
      const e = await sharedEtcd();
      await section('failover', { ...settings, etcdFsync: !values['etcd-no-fsync'] }, async () => {
        const out: StoreFailoverResult[] = [];
        for (const kind of ['sqlite', 'etcd'] as const)
          for (const ffMode of settings.modes)
            out.push(await failoverOnStore(kind, e, settings, ffMode, log));
        return out;
      });
    }
    if (wanted.has('api')) {
      const settings: ApiSettings = {
        durationS: mode === 'full' ? 10 : 5,
        warmupS: 2,
        rounds: mode === 'full' ? 4 : 2,
        connections: 50,
        idleSampleS: 5,
        contentionDurationS: mode === 'full' ? 15 : 5,
        contentionConnections: 48,
      };
      await section('api', { ...settings }, () => runApi(settings, scratch, log));
    }
    if (wanted.has('history')) {
      const settings: HistorySettings = {
        levels: [1000, 100_000],
        requests: mode === 'full' ? 200 : 30,
        cancels: mode === 'full' ? 100 : 20,
      };
      const e = await sharedEtcd();
      await section('history', { ...settings }, () => runHistory(settings, e, log));
    }
    if (wanted.has('scale')) {
      const settings: ScaleSettings = {
        levels: [100, 1000, 10_000],
        requests: mode === 'full' ? 200 : 50,
        changedRequests: mode === 'full' ? 40 : 10,
        loadConnections: 4,
        loadDurationS: mode === 'full' ? 5 : 3,
      };
      await section('scale', { ...settings }, () => runScale(settings, log));
    }
    if (wanted.has('login-flood')) {
      const settings: LoginFloodSettings = {
        durationS: mode === 'full' ? 10 : 5,
        floodConnections: 50,
        probeConnections: 2,
      };
      await section('login-flood', { ...settings, baselineBin: process.env.BOSUN_BENCH_BASELINE_BIN }, () =>
        runLoginFlood(settings, log),
      );
    }
    if (wanted.has('metrics')) {
      const settings: MetricsSettings = {
        scrapes: mode === 'full' ? 500 : 200,
        handovers: mode === 'full' ? 100 : 30,
        warmup: 3,
        baselineBin: values.baseline,
      };
      const e = await sharedEtcd();
      await section('metrics', { ...settings, etcdFsync: !values['etcd-no-fsync'] }, () =>
        runMetrics(settings, e, log),
      );
    }
    if (wanted.has('dashboard')) {
      const settings: DashboardSettings = { changes: mode === 'full' ? 20 : 6 };
      await section('dashboard', { ...settings }, () => runDashboard(settings, log));
    }
    if (wanted.has('live')) {
      const settings: LiveSettings = {
        handovers: mode === 'full' ? 50 : 10,
        deliveries: mode === 'full' ? 500 : 100,
        streams: 200,
        slowEvents: mode === 'full' ? 2000 : 600,
      };
      const e = await sharedEtcd();
      await section('live', { ...settings, etcdFsync: !values['etcd-no-fsync'] }, async () => {
        const out: LiveStoreResult[] = [];
        for (const kind of ['sqlite', 'etcd'] as const) out.push(await liveOnStore(kind, e, settings, log));
        return out;
      });
    }
    if (wanted.has('versus')) {
      if (!values.baseline) throw new Error('the versus section needs --baseline <other build>/bin/bosun.js');
      const settings: VersusSettings = {
        baselineBin: values.baseline,
        handovers: mode === 'full' ? 100 : 30,
        warmup: 3,
        rounds: mode === 'full' ? 6 : 2,
        durationS: mode === 'full' ? 5 : 3,
        connections: 50,
      };
      const e = await sharedEtcd();
      await section('versus', { ...settings }, () => runVersus(settings, e, log));
    }
    if (wanted.has('trace')) {
      const runs = mode === 'full' ? 30 : 10;
      const e = await sharedEtcd();
      await section('trace', { runs, etcdFsync: !values['etcd-no-fsync'] }, async () => {
        const out: TraceResult[] = [];
        for (const kind of ['sqlite', 'etcd'] as const) {
          out.push(await traceStore(kind, e, runs, join(scratch, `trace-${kind}`)));
        }
        return out;
      });
    }
    if (wanted.has('profile')) {
      // Kept (git-ignored) for a closer look: chrome://inspect or VS Code opens .cpuprofile files.
      await section('profile', {}, () => runProfiles(join(resultsDir, 'tmp-profiles'), log));
    }
    if (wanted.has('memory')) {
      await section('memory', {}, () => runMemoryDiag(join(scratch, 'memory'), log));
    }
    if (!values['no-report']) {
      const { writeReport } = await import('./report.js');
      const path = await writeReport();
      log(`report: ${path}`);
    }
  } finally {
    await etcd?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
