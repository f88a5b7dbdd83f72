/** The "History" part of BENCHMARKS.md (bench/history.ts's results), rendered by bench/report.ts. */
import type { StoreHistoryResult } from './history.js';
import type { SectionResult } from './lib/results.js';

const f = (v: number | undefined, digits = 2): string =>
  v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function historyReport(s: SectionResult<StoreHistoryResult[]>): string {
  const out: string[] = [
    'Retained runs side by side (bench/history.ts): one node holding 1,000 and then 100,000 runs (2% failed), medians in ms over sequential requests on a kept-alive connection; the ratio is the 100,000 figure over the 1,000 one.',
    '',
  ];
  for (const r of s.results) {
    const [small, large] = [r.levels[0], r.levels.at(-1)];
    if (!small || !large) continue;
    const rows = Object.keys(small.queries).map((q) => {
      const a = small.queries[q]!;
      const b = large.queries[q]!;
      return [q, `${f(a.median)} / ${f(a.p99)}`, `${f(b.median)} / ${f(b.p99)}`, f(b.median / a.median, 1)];
    });
    rows.push(
      ['store size, MB', f(small.storeMB, 1), f(large.storeMB, 1), f(large.storeMB / small.storeMB, 1)],
      [
        'node RSS, MB',
        f(small.rssMB, 1),
        f(large.rssMB, 1),
        f((large.rssMB ?? NaN) / (small.rssMB ?? NaN), 1),
      ],
      ['whole list body, MB', f(small.fullListBytes / 1048576), f(large.fullListBytes / 1048576), ''],
    );
    out.push(
      `**${r.store}**${large.storeInUseMB !== undefined ? ` (store size: etcd dbSize; in use ${f(small.storeInUseMB, 1)} and ${f(large.storeInUseMB, 1)} MB)` : ' (store size: the SQLite file and its WAL)'}`,
      '',
      table(
        [
          'Query',
          `${small.runs.toLocaleString('en-US')} runs: median / p99`,
          `${large.runs.toLocaleString('en-US')} runs: median / p99`,
          'Ratio',
        ],
        rows,
      ),
      '',
    );
  }
  out.push(
    'Cancel. Before the point of no return: a queued `change_master` (the master paused, so nothing claims it), cancelled by a DELETE to another node, timed from the DELETE to the run read back `cancelled`. Raced: a DELETE sent on the master the moment the POST answers, counted by what it met (the hand-over intent is usually out within milliseconds, so most are refused with 409).',
    '',
    table(
      [
        'Store',
        'Attempts per case',
        'Queued: DELETE→cancelled median / p99 ms',
        'Raced: cancelled by the DELETE (queued)',
        'Raced: cancelled by the engine (running)',
        'Raced: 409 past the point',
        'Raced: other (ended first)',
      ],
      s.results.map((r) => [
        r.store,
        String(r.cancel.attempts),
        r.cancel.deleteToCancelled
          ? `${f(r.cancel.deleteToCancelled.median)} / ${f(r.cancel.deleteToCancelled.p99)}`
          : 'n/a',
        String(r.cancel.cancelledAtOnce),
        String(r.cancel.cancelledByEngine),
        String(r.cancel.refusedPastPoint),
        String(r.cancel.other),
      ]),
    ),
  );
  return out.join('\n');
}
