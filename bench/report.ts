/**
 * Renders the generated part of BENCHMARKS.md from bench/results/*.json: the machine, the targets with
 * met/missed, and one table per benchmark. Text outside the `generated` markers (the analysis) is kept
 * as it is.
 *
 *   node dist/bench/report.js        # re-render from the stored results, without measuring
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as prettier from 'prettier';

import type { ApiResult } from './api.js';
import type { MemoryDiagResult } from './diag/memory.js';
import type { ProfileResult } from './diag/profile.js';
import type { TraceResult } from './diag/trace.js';
import type { StoreFailoverResult } from './failover.js';
import type { StoreHandoverResult } from './handover.js';
import type { MachineInfo } from './lib/machine.js';
import type { StoreHistoryResult } from './history.js';
import { historyReport } from './history-report.js';
import { readResult, repoRoot, type SectionResult } from './lib/results.js';
import type { Summary } from './lib/stats.js';
import type { LoginFloodResult } from './login-flood.js';
import type { ScaleResult } from './scale.js';
import type { VersusResult } from './versus.js';
import { dashboardReport, type DashboardResult } from './dashboard.js';

const BEGIN = '<!-- generated:begin (npm run bench rewrites everything up to generated:end) -->';
const END = '<!-- generated:end -->';

const TARGETS = {
  handoverEtcdMs: 25,
  handoverSqliteMs: 15,
  floorRatio: 3,
  noMasterWindowMs: 15,
  failoverOverTtlMs: 300,
  fastFailoverMedianMs: 1000,
  fastFailoverP90Ms: 1500,
  apiRatio: 0.8,
  apiP99Ms: 10,
  idleRssMB: 100,
  list10kMs: 50,
  loginFloodP99Ms: 20,
};

const f = (v: number | undefined, digits = 1): string =>
  v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const verdict = (ok: boolean): string => (ok ? '**met**' : '**missed**');
const mp = (s: Summary, digits = 1): string => `${f(s.median, digits)} / ${f(s.p90, digits)}`;

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function machineLine(m: MachineInfo): string {
  return (
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}; etcd ${m.etcd ?? 'n/a'}; ` +
    `commit ${m.commit ?? '?'}${m.dirtySrc.length > 0 ? ` with uncommitted changes in ${m.dirtySrc.join(', ')}` : ''}`
  );
}

interface Sections {
  handover?: SectionResult<StoreHandoverResult[]>;
  failover?: SectionResult<StoreFailoverResult[]>;
  api?: SectionResult<ApiResult>;
  scale?: SectionResult<ScaleResult>;
  trace?: SectionResult<TraceResult[]>;
  profile?: SectionResult<ProfileResult[]>;
  memory?: SectionResult<MemoryDiagResult>;
  loginFlood?: SectionResult<LoginFloodResult>;
  versus?: SectionResult<VersusResult>;
  history?: SectionResult<StoreHistoryResult[]>;
  dashboard?: SectionResult<DashboardResult>;
}

function loadSections(): Sections {
  return {
    handover: readResult('handover'),
    failover: readResult('failover'),
    api: readResult('api'),
    scale: readResult('scale'),
    trace: readResult('trace'),
    versus: readResult('versus'),
    profile: readResult('profile'),
    memory: readResult('memory'),
    loginFlood: readResult('login-flood'),
    history: readResult('history'),
    dashboard: readResult('dashboard'),
  };
}

function targets(s: Sections): string {
  const rows: string[][] = [];
  const ho = (store: string) => s.handover?.results.find((r) => r.store === store);
  const etcd = ho('etcd');
  const sqlite = ho('sqlite');
  if (etcd) {
    const m = etcd.summary.postToCompleted.median;
    rows.push([
      'Hand-over POST to completed, etcd (median)',
      `≤ ${TARGETS.handoverEtcdMs} ms`,
      `${f(m)} ms`,
      verdict(m <= TARGETS.handoverEtcdMs),
    ]);
  }
  if (sqlite) {
    const m = sqlite.summary.postToCompleted.median;
    rows.push([
      'Hand-over POST to completed, SQLite (median)',
      `≤ ${TARGETS.handoverSqliteMs} ms`,
      `${f(m)} ms`,
      verdict(m <= TARGETS.handoverSqliteMs),
    ]);
  }
  if (etcd) {
    const r = etcd.ratioToFloor['bare etcd3']!;
    rows.push([
      'Hand-over, etcd: (a) over the bare-etcd floor (c) (medians)',
      `≤ ${TARGETS.floorRatio}×`,
      `${f(r, 2)}×`,
      verdict(r <= TARGETS.floorRatio),
    ]);
  }
  for (const r of [sqlite, etcd]) {
    if (!r) continue;
    const m = r.summary.noMasterWindow.median;
    rows.push([
      `No-master window, ${r.store} (median)`,
      `≤ ${TARGETS.noMasterWindowMs} ms`,
      `${f(m)} ms`,
      verdict(m <= TARGETS.noMasterWindowMs),
    ]);
  }
  for (const r of s.failover?.results ?? []) {
    const m = r.summary.write.median;
    const p90 = r.summary.write.p90;
    const mode = r.fastFailover ?? 'off';
    if (mode === 'off') {
      const limit = r.leaseTtlMs + TARGETS.failoverOverTtlMs;
      rows.push([
        `Failover after kill -9, ${r.store}, lease expiry (median; lease TTL ${r.leaseTtlMs} ms)`,
        `≤ ${int(limit)} ms`,
        `${int(m)} ms (p90 ${int(p90)}, max ${int(r.summary.write.max)})`,
        verdict(m <= limit),
      ]);
    } else {
      rows.push([
        `Failover after kill -9, ${r.store}, fast path \`${mode}\` (median / p90; lease TTL ${r.leaseTtlMs} ms)`,
        `≤ ${int(TARGETS.fastFailoverMedianMs)} / ${int(TARGETS.fastFailoverP90Ms)} ms`,
        `${int(m)} / ${int(p90)} ms (max ${int(r.summary.write.max)})`,
        verdict(m <= TARGETS.fastFailoverMedianMs && p90 <= TARGETS.fastFailoverP90Ms),
      ]);
    }
  }
  for (const e of s.api?.results.endpoints ?? []) {
    rows.push([
      `GET ${e.path}: req/s over bare Fastify`,
      `≥ ${TARGETS.apiRatio}×`,
      `${f(e.ratio, 2)}×`,
      verdict(e.ratio >= TARGETS.apiRatio),
    ]);
    rows.push([
      `GET ${e.path}: p99 at ${s.api!.settings.connections as number} connections`,
      `≤ ${TARGETS.apiP99Ms} ms`,
      `${f(e.bosun.p99, 2)} ms`,
      verdict(e.bosun.p99 <= TARGETS.apiP99Ms),
    ]);
  }
  if (s.api) {
    const m = s.api.results.memory;
    const max = Math.max(...Object.values(m.idleByNode));
    rows.push([
      'Idle RSS per node (median of the 3 nodes)',
      `≤ ${TARGETS.idleRssMB} MB`,
      `${f(m.idleMedian)} MB (max ${f(max)})`,
      verdict(m.idleMedian <= TARGETS.idleRssMB),
    ]);
  }
  const top = s.scale?.results.levels.at(-1);
  if (top) {
    rows.push([
      `GET /v1/actions with ${int(top.runs)} runs (median)`,
      `≤ ${TARGETS.list10kMs} ms, or paginated`,
      `${f(top.sequential.median)} ms unchanged; ${f(top.afterChange?.median)} ms right after a change (not paginated)`,
      verdict(Math.max(top.sequential.median, top.afterChange?.median ?? 0) <= TARGETS.list10kMs),
    ]);
  }
  const flood = s.loginFlood?.results.variants.find((v) => v.variant === 'current');
  if (flood) {
    const worst = Math.max(flood.flooded.jwt.latencyAll.p99, flood.flooded.basicCached.latencyAll.p99);
    rows.push([
      'Token and cached-Basic p99 under a wrong-password flood',
      `≤ ${TARGETS.loginFloodP99Ms} ms`,
      `${f(worst, 1)} ms`,
      verdict(worst <= TARGETS.loginFloodP99Ms),
    ]);
  }
  return table(['Target (2-core machine)', 'Goal', 'Measured', ''], rows);
}

function handover(s: SectionResult<StoreHandoverResult[]>): string {
  const rows: string[][] = [];
  for (const r of s.results) {
    const floors = Object.entries(r.summary.floor);
    rows.push([
      r.store,
      `${r.samples.length} (${r.failed} failed)`,
      mp(r.summary.postToCompleted),
      mp(r.summary.noMasterWindow),
      floors.map(([label, fl]) => `${label}: ${mp(fl.total)}`).join('<br>'),
      floors.map(([label]) => `${label}: ${f(r.ratioToFloor[label], 2)}×`).join('<br>'),
    ]);
  }
  const breakdown: string[][] = s.results.map((r) => [
    r.store,
    mp(r.summary.post),
    mp(r.summary.claimAt, 0),
    mp(r.summary.serverHandover, 0),
    mp(r.summary.endAt, 0),
    mp(r.summary.postToCompleted),
    f(r.summary.polls.median, 0),
  ]);
  const floorRows: string[][] = s.results.flatMap((r) =>
    Object.entries(r.summary.floor).map(([label, fl]) => [
      `${r.store}: ${label}`,
      mp(fl.intent),
      mp(fl.intentSeen),
      mp(fl.takenOver),
      mp(fl.total),
    ]),
  );
  return [
    `${s.results[0]?.samples.length ?? 0} runs per store after ${s.settings.warmup as number} warm-up runs; ` +
      `etcd: 3 members on loopback, fsync ${s.settings.etcdFsync ? 'on' : 'off'}. Times in ms, median / p90.`,
    '',
    table(
      [
        'Store',
        'Runs',
        '(a) POST to completed',
        '(b) no-master window',
        '(c) floor: intent write to old side seeing the new master',
        '(a) / (c)',
      ],
      rows,
    ),
    '',
    "Where (a) goes, on the client's clock (ms after the POST was sent; the run's own timestamps have 1 ms resolution):",
    '',
    table(
      [
        'Store',
        'POST answered',
        'run claimed (`start_time`)',
        'server `handover_ms` (intent to confirmation)',
        'run completed (`end_time`)',
        'client saw `completed`',
        'polls',
      ],
      breakdown,
    ),
    '',
    "The floor, step by step (ms after the intent transaction was sent; the target's steps are on another process's clock, good to about a millisecond):",
    '',
    table(
      [
        'Floor',
        'intent txn returned',
        'target saw the intent',
        'take-over txn returned',
        'old side saw the new master',
      ],
      floorRows,
    ),
  ].join('\n');
}

const FAST_FAILOVER_LABEL: Record<'on' | 'port' | 'off', string> = {
  off: 'lease expiry (`off`)',
  on: 'fast: process gone or port refused (`on`)',
  port: 'fast: port refused, majority (`port`)',
};

function failover(s: SectionResult<StoreFailoverResult[]>): string {
  const lease = (store: string): StoreFailoverResult | undefined =>
    s.results.find((r) => r.store === store && (r.fastFailover ?? 'off') === 'off');
  const rows = s.results.map((r) => [
    r.store,
    FAST_FAILOVER_LABEL[r.fastFailover ?? 'off'],
    String(r.samples.length),
    `${int(r.summary.write.median)} / ${int(r.summary.write.p90)} / ${int(r.summary.write.max)}`,
    `${f(r.ratioToTtl.median, 2)} / ${f(r.ratioToTtl.p90, 2)} / ${f(r.ratioToTtl.max, 2)}`,
    `${int(r.summary.masterSeen.median)} / ${int(r.summary.masterSeen.p90)}`,
    `${int(r.summary.writeSeen.median)}`,
    (r.fastFailover ?? 'off') === 'off'
      ? '1×'
      : `${f(r.summary.write.median / (lease(r.store)?.summary.write.median ?? Number.NaN), 2)}×`,
  ]);
  return [
    `Lease TTL ${s.settings.leaseTtlMs as number} ms; the kill lands at a random point of the keep-alive cycle. ` +
      'Each store runs once per `--fast-failover` mode, one after the other in the same run: `off` is the ' +
      'lease-expiry failover (the baseline), `on` the default fast path, `port` the majority-confirmed ' +
      'refused port alone (what applies between hosts).',
    '',
    table(
      [
        'Store',
        'Failover path',
        'Kills',
        "New master's first write after the kill, ms (median / p90 / max)",
        'Over the lease TTL (median / p90 / max)',
        'A survivor reports `is_master`, ms (median / p90)',
        'Client saw the write, ms (median)',
        'Median over lease expiry',
      ],
      rows,
    ),
  ].join('\n');
}

function api(s: SectionResult<ApiResult>): string {
  const r = s.results;
  const rows = r.endpoints.map((e) => [
    `\`GET ${e.path}\``,
    int(e.bodyBytes),
    `${int(e.bosun.rps)}`,
    `${f(e.bosun.p50, 2)} / ${f(e.bosun.p99, 2)}`,
    `${int(e.bare.rps)}`,
    `${f(e.bare.p50, 2)} / ${f(e.bare.p99, 2)}`,
    `${f(e.ratio, 2)}× (rounds: ${e.pairedRatios.map((x) => f(x, 2)).join(', ')})`,
  ]);
  const m = r.memory;
  const c = r.contention;
  const memRows = [
    [
      'Bosun node, idle',
      Object.entries(m.idleByNode)
        .map(([uid, v]) => `node ${uid}: ${f(v)}`)
        .join(', ') + ` (median ${f(m.idleMedian)})`,
    ],
    [
      `Bosun node ${m.loadedNode}, under the GET load above`,
      `median ${f(m.underLoad.median)}, max ${f(m.underLoad.max)} (VmHWM ${f(m.peakHwm)})`,
    ],
    [
      'Bare Fastify server, idle / under load',
      `${f(m.bareIdle)} / median ${f(m.bareUnderLoad.median)}, max ${f(m.bareUnderLoad.max)}`,
    ],
  ];
  const codes = Object.entries(c.statusCounts)
    .map(([code, n]) => `${code}: ${int(n)}`)
    .join(', ');
  return [
    `${s.settings.connections as number} connections, ${s.settings.rounds as number} rounds of ${s.settings.durationS as number} s per server and path, ` +
      `alternating which server goes first; Basic auth on every Bosun request; loaded node: ${r.loadedNode} (the master). ` +
      'Latency in ms, exact per response; figures are medians over rounds.',
    '',
    table(
      [
        'Path',
        'Body bytes',
        'Bosun req/s',
        'Bosun p50 / p99',
        'Bare req/s',
        'Bare p50 / p99',
        'Bosun / bare',
      ],
      rows,
    ),
    '',
    'Memory (VmRSS, MB = 10^6 bytes, sampled every 100 ms):',
    '',
    table(['Process', 'RSS, MB'], memRows),
    '',
    `POST \`change_master\` under contention: ${c.connections} connections spread over the 3 nodes for ${c.durationS} s, ` +
      'each request naming a random node. Every 200 is a run a master then executes; "found" counts the new runs ' +
      'in `/v1/actions` afterwards, which includes POSTs still in flight when the load stopped (their 200 was not counted).',
    '',
    table(
      [
        'Requests',
        'Status codes',
        '200',
        '409',
        'Errors (other statuses, socket errors, timeouts)',
        'Latency p50 / p99, ms',
        'Accepted runs: completed (real hand-overs + no-ops) / failed',
      ],
      [
        [
          int(c.requests),
          codes,
          `${f(c.share200 * 100, 2)}%`,
          `${f(c.share409 * 100, 2)}%`,
          `${f(c.errorRate * 100, 2)}% (${c.errors} socket errors, ${c.timeouts} timeouts)`,
          `${f(c.latency.median, 2)} / ${f(c.latency.p99, 2)}`,
          `${c.runs.accepted} accepted, ${c.runs.found} found: ${c.runs.completed} completed (${c.runs.handovers} + ${c.runs.noop}) / ${c.runs.failed} failed${
            c.runs.failed > 0
              ? ` (${Object.entries(c.runs.failures)
                  .map(([k, v]) => `${k}: ${v}`)
                  .join(', ')})`
              : ''
          }`,
        ],
      ],
    ),
    ...(c.epochs
      ? [
          '',
          `Master epoch ${c.epochs.before ?? '?'} before the load and ${c.epochs.after ?? '?'} after: ` +
            `${c.runs.handovers} completed hand-overs account for ${c.runs.handovers} master changes; the other ` +
            `${c.epochs.elections ?? '?'} are master changes no completed run accounts for (a hand-over whose run was ` +
            'recorded as failed, or an election).',
        ]
      : []),
    ...(c.runs.failureMessages?.length
      ? ['', 'Failed runs said:', '', ...c.runs.failureMessages.map((m) => `- ${m}`)]
      : []),
    ...(r.masterChanges
      ? [
          '',
          `Master changes over the whole section (GET load on the master, then the contention), from the nodes' logs, ` +
            `fast failover \`${r.masterChanges.fastFailover}\`: ${r.masterChanges.handovers} requested hand-overs; ` +
            `**${r.masterChanges.elections + r.masterChanges.forced} unrequested** ` +
            `(${r.masterChanges.elections} elections after a lease ran out, ${r.masterChanges.forced} forced take-overs).`,
        ]
      : []),
  ].join('\n');
}

function scale(s: SectionResult<ScaleResult>): string {
  const r = s.results;
  const others = Object.keys(r.levels[0]?.others ?? {});
  const rows = r.levels.map((l) => [
    int(l.runs),
    int(l.bodyBytes / 1000),
    `${f(l.sequential.median, 2)} / ${f(l.sequential.p90, 2)} / ${f(l.sequential.p99, 2)}`,
    l.afterChange ? `${f(l.afterChange.median, 2)} / ${f(l.afterChange.p90, 2)}` : 'n/a',
    `${f(r.growth[String(l.runs)], 1)}×`,
    `${int(l.load.rps)} (p99 ${f(l.load.p99, 1)})`,
    ...others.map((o) => f(l.others[o]?.median, 2)),
    f(l.rssMB),
  ]);
  return [
    `Sequential requests on one kept-alive connection (${s.settings.requests as number} per size), timed to the last byte; ` +
      `${(s.settings.changedRequests as number | undefined) ?? 0} more, each 50 ms after one run was rewritten in the store (nothing cached for that revision); ` +
      `autocannon with ${s.settings.loadConnections as number} connections for throughput. Node ${r.node} (not the master).`,
    '',
    table(
      [
        'Runs',
        'Body kB',
        '`GET /v1/actions` ms (median / p90 / p99)',
        'Right after a change to one run, ms (median / p90)',
        'Growth (median)',
        `req/s at ${s.settings.loadConnections as number} connections`,
        ...others.map((o) => `\`GET ${o}\` median ms`),
        'Node RSS MB',
      ],
      rows,
    ),
  ].join('\n');
}

function loginFlood(s: SectionResult<LoginFloodResult>): string {
  const rows: string[][] = [];
  for (const v of s.results.variants) {
    for (const [phase, p] of [
      ['quiet', v.quiet],
      ['flooded', v.flooded],
    ] as const) {
      for (const [kind, r] of [
        ['JWT', p.jwt],
        ['Basic (cached)', p.basicCached],
      ] as const) {
        const ok = r.statusCounts['200'] ?? 0;
        rows.push([
          v.variant,
          phase,
          kind,
          int(r.responses),
          int(ok),
          r.responses > 0 ? `${f(r.latencyAll.median, 2)} / ${f(r.latencyAll.p99, 1)}` : 'no answer',
          p.flood
            ? `${int(p.flood.rps)}/s: ${Object.entries(p.flood.statusCounts)
                .map(([k, n]) => `${k}×${n}`)
                .join(', ')}`
            : '',
        ]);
      }
    }
  }
  const current = s.results.variants.find((v) => v.variant === 'current');
  const worst = current
    ? Math.max(current.flooded.jwt.latencyAll.p99, current.flooded.basicCached.latencyAll.p99)
    : undefined;
  return [
    `One node; ${s.settings.floodConnections as number} connections of wrong-password Basic requests ` +
      `(an unknown email: a full scrypt check each) from a separate process, and ${s.settings.probeConnections as number} ` +
      `connections each of token and cached-Basic \`GET /v1/cluster\` for ${s.settings.durationS as number} s, quiet and then under the flood. ` +
      `\`baseline\` is the build named by BOSUN_BENCH_BASELINE_BIN (${(s.settings.baselineBin as string | undefined) ?? 'none'}), run the same way just before.`,
    '',
    table(
      ['Build', 'Phase', 'Probe', 'Responses', '200s', 'Latency ms (median / p99)', 'Flood answers'],
      rows,
    ),
    '',
    worst !== undefined
      ? `Target: token and cached-Basic p99 ≤ ${TARGETS.loginFloodP99Ms} ms under the flood: ${f(worst, 1)} ms, ${verdict(worst <= TARGETS.loginFloodP99Ms)}.`
      : '',
  ].join('\n');
}

function trace(s: SectionResult<TraceResult[]>): string {
  const parts = [
    'Every store call and watch delivery inside the POST-to-completed window (nodes run with `bench/diag/store-trace.ts`).',
    '',
    table(
      [
        'Store',
        'Runs',
        'POST to completed, median ms',
        'Store calls per hand-over (median)',
        'Time in store calls on the critical path, median ms',
        'Watch hop (write returned to another node seeing it), ms median / p90 / p99',
        'Hops over 3 ms',
      ],
      s.results.map((r) => [
        r.store,
        String(r.runs),
        f(r.medianTotalMs),
        Object.entries(r.medianCalls)
          .map(([k, v]) => `${v} ${k}`)
          .join(', '),
        f(r.medianSumCallMs),
        r.watchHop ? `${f(r.watchHop.median, 2)} / ${f(r.watchHop.p90, 2)} / ${f(r.watchHop.p99, 2)}` : 'n/a',
        r.slowHopShare !== undefined ? `${f(r.slowHopShare * 100, 1)}%` : 'n/a',
      ]),
    ),
  ];
  for (const r of s.results) {
    parts.push(
      '',
      `<details><summary>The median ${r.store} run (${f(r.medianRun.totalMs)} ms, node ${r.medianRun.from} → node ${r.medianRun.to}, client on node ${r.medianRun.client})</summary>`,
      '',
      '```',
      ...r.medianRun.timeline,
      '```',
      '',
      '</details>',
    );
  }
  return parts.join('\n');
}

function profile(s: SectionResult<ProfileResult[]>): string {
  const parts: string[] = [];
  for (const p of s.results) {
    parts.push(
      '',
      `**${p.workload}**: ${p.description}. ${int(p.profile.busyMs)} ms of CPU in a ${int(p.profile.durationMs)} ms profile.`,
      '',
      table(
        ['Function (self time)', 'Self ms', 'Self %'],
        p.profile.bySelf.slice(0, 10).map((x) => [`\`${x.fn}\``, f(x.self), f(x.selfPct)]),
      ),
      '',
      table(
        ["Bosun's own code (inclusive time)", 'Total ms', 'Total %'],
        (p.profile.ownByTotal ?? []).slice(0, 8).map((x) => [`\`${x.fn}\``, f(x.total), f(x.totalPct)]),
      ),
    );
  }
  return parts.join('\n').trim();
}

function memory(s: SectionResult<MemoryDiagResult>): string {
  const r = s.results;
  const heap = r.firstStart.reports.map((x) => [
    String(x.pid),
    f(x.before.rss),
    `${f(x.before.heapUsed)} / ${f(x.before.heapTotal)}`,
    `${f(x.afterGc.heapUsed)} / ${f(x.afterGc.heapTotal)}`,
    f(x.afterGc.rss),
  ]);
  return [
    'RSS of a bare `node` that only imports a module graph, after a full GC (MB):',
    '',
    table(
      ['Imported', 'RSS MB'],
      Object.entries(r.importCost).map(([k, v]) => [k, f(v)]),
    ),
    '',
    ...(r.scryptRetention
      ? [
          "RSS of a bare `node` after 0, 1, 2 and then 2 more concurrent scrypt hashes with Bosun's parameters (16 MB each), after a full GC (MB):",
          '',
          table(
            ['malloc', 'none', '1', '2', '2 + 2 concurrent'],
            Object.entries(r.scryptRetention).map(([k, v]) => [k, ...v.map((x) => f(x))]),
          ),
          '',
        ]
      : []),
    `A node's own split, idle 8 s after first start (certificate generated); after a restart with the certificate kept: ${f(r.restart.rss)} MB.`,
    '',
    table(
      ['pid', 'RSS MB', 'V8 heap used / reserved', 'after a full GC: used / reserved', 'RSS after GC'],
      heap,
    ),
    '',
    "What-if: the same cluster with a smaller V8 young generation, and with glibc's mmap threshold pinned so that freed 16 MB scrypt buffers go back to the system (single 5 s GET runs, not paired: the req/s column is indicative only):",
    '',
    table(
      ['Environment', 'Idle RSS MB (median of 3)', 'After restart', 'Max under GET load', 'req/s'],
      r.whatIf.map((w) => [
        w.nodeOptions
          ? `\`${w.nodeOptions}\``
          : "(the test helper's own: MALLOC_MMAP_THRESHOLD_ since 94b65c4)",
        f(w.idleRss),
        f(w.restartRss),
        f(w.loadRss),
        int(w.rps),
      ]),
    ),
  ].join('\n');
}

function versus(s: SectionResult<VersusResult>): string {
  const r = s.results;
  const baseline = typeof s.settings.baselineBin === 'string' ? s.settings.baselineBin : '?';
  return [
    `This build against \`${baseline}\`, side by side (bench/versus.ts). Ratios are current over baseline.`,
    '',
    table(
      ['Hand-over', 'Current median / p90 ms', 'Baseline median / p90 ms', 'Ratio (lower is faster)'],
      r.handover.map((h) => [h.store, mp(h.current), mp(h.baseline), f(h.ratio, 3)]),
    ),
    '',
    table(
      ['GET', 'Current req/s', 'Baseline req/s', 'Ratio (higher is faster)', 'p99 ms current / baseline'],
      r.get.map((g) => [
        `\`${g.path}\``,
        int(g.currentRps),
        int(g.baselineRps),
        f(g.ratio, 3),
        `${f(g.currentP99, 2)} / ${f(g.baselineP99, 2)}`,
      ]),
    ),
  ].join('\n');
}

export function renderGenerated(s: Sections = loadSections()): string {
  const all = Object.values(s).filter((x): x is SectionResult => x !== undefined);
  const dates = all.map(
    (x) => `${x.section}: ${x.machine.date.slice(0, 16).replace('T', ' ')} UTC (${x.mode}, ${x.durationS} s)`,
  );
  const machine = all[0]?.machine;
  const out = [
    BEGIN,
    '',
    '## Results',
    '',
    machine ? `Machine: ${machineLine(machine)}.` : 'No results yet: run `npm run bench`.',
    '',
    `Measured: ${dates.join('; ')}.`,
    '',
    '### Targets',
    '',
    targets(s),
  ];
  if (s.handover) out.push('', '### Hand-over (`change_master`)', '', handover(s.handover));
  if (s.failover) out.push('', '### Failover after `kill -9` of the master', '', failover(s.failover));
  if (s.api) out.push('', '### API', '', api(s.api));
  if (s.scale) out.push('', '### Scale: listing retained runs', '', scale(s.scale));
  if (s.loginFlood) out.push('', '### Login flood', '', loginFlood(s.loginFlood));
  if (s.history)
    out.push('', '### History: 1,000 against 100,000 retained runs', '', historyReport(s.history));
  if (s.versus) out.push('', '### Versus the commit before a change', '', versus(s.versus));
  if (s.dashboard) out.push('', '### Dashboard', '', dashboardReport(s.dashboard.results));
  if (s.trace) out.push('', '### Diagnostics: store calls along a hand-over', '', trace(s.trace));
  if (s.profile) out.push('', '### Diagnostics: CPU profiles', '', profile(s.profile));
  if (s.memory) out.push('', '### Diagnostics: memory', '', memory(s.memory));
  out.push('', END);
  return out.join('\n');
}

const TEMPLATE_HEAD = `# Benchmarks

How Bosun compares with its peers and with the physical limit, on one machine, measured side by side in
one run. Reproduce with \`npm ci && npm run bench\` (quick, a few minutes) or \`npm run bench -- --full
--diagnostics\`; see [bench/run.ts](bench/run.ts). Machine-readable results are in
[bench/results/](bench/results/). Nothing in \`npm test\` asserts a time.

`;

/** BENCHMARKS.md's generated part, laid out as `npm run lint` expects (the repository's Prettier settings). */
export async function formattedGenerated(s?: Sections): Promise<string> {
  const options = (await prettier.resolveConfig(join(repoRoot, 'BENCHMARKS.md'))) ?? {};
  return (await prettier.format(renderGenerated(s), { ...options, parser: 'markdown' })).trimEnd();
}

/** The generated part of `text` (between the markers, markers included), or undefined. */
export function generatedPart(text: string): string | undefined {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  return a >= 0 && b > a ? text.slice(a, b + END.length) : undefined;
}

/**
 * Rewrites the generated part in place. Everything in it comes from bench/results/*.json, so analysis
 * written by hand belongs outside the markers (under "Findings"), where it survives every run; a test
 * (test/benchmarks-doc.test.ts) keeps the committed part equal to what the stored results render.
 */
export async function writeReport(path = join(repoRoot, 'BENCHMARKS.md')): Promise<string> {
  const generated = await formattedGenerated();
  const text = existsSync(path) ? readFileSync(path, 'utf8') : `${TEMPLATE_HEAD}${BEGIN}\n${END}\n`;
  const old = generatedPart(text);
  writeFileSync(
    path,
    old === undefined ? `${text.trimEnd()}\n\n${generated}\n` : text.replace(old, () => generated),
  );
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await writeReport());
}
