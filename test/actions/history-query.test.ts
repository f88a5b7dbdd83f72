/**
 * The history search's time window (src/actions/history-query.ts, RunReadModel.search): `since` and
 * `until` are found by binary search instead of a scan of every run, and every page, cursor and order
 * gives exactly what the scan gives, also when the creation times are out of order (nodes whose clocks
 * disagree, runs written in one transaction).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  parseHistoryQuery,
  queryHistory,
  timeBounds,
  type HistoryQuery,
  type TimeBounds,
} from '../../src/actions/history-query.js';
import { RunReadModel } from '../../src/actions/run-read-model.js';
import { newRun, type ActionRun } from '../../src/actions/run.js';
import type { KeyValue } from '../../src/store/types.js';
import { memoryCluster } from './fakes.js';

/**
 * `n` runs in creation order, several per second, with their key-values; `skew` moves every fifth
 * run's time back by up to that many seconds (a node whose clock is behind).
 */
function history(n: number, skew = 0): { ordered: KeyValue[]; runs: Map<string, ActionRun> } {
  const start = 1_800_000_000;
  const runs = new Map<string, ActionRun>();
  const ordered: KeyValue[] = [];
  let t = start;
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) t += i % 7; // some seconds hold several runs, some none
    const late = skew > 0 && i % 5 === 0 ? (i * 7919) % (skew + 1) : 0;
    const run = {
      ...newRun(i % 4 === 0 ? 'other' : 'change_master', {}, undefined),
      creation_time: t - late,
    };
    const key = `/runs/${run.action_uid}`;
    runs.set(key, run);
    ordered.push({
      key,
      value: JSON.stringify(run),
      createRevision: i + 1,
      modRevision: i + 1,
      version: 1,
      lease: undefined,
    });
  }
  return { ordered, runs };
}

/** Every page of `q`, following the cursors; and how many runs were looked at. */
function allPages(
  h: ReturnType<typeof history>,
  raw: Record<string, string>,
  bounds: TimeBounds | undefined,
): { uids: string[]; looked: number } {
  let looked = 0;
  const uids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const q = parseHistoryQuery({ ...raw, ...(cursor ? { cursor } : {}) }) as HistoryQuery;
    const page = queryHistory(
      h.ordered,
      q,
      (kv) => {
        looked++;
        return h.runs.get(kv.key)!;
      },
      bounds,
    );
    uids.push(...page.runs.map((kv) => kv.key));
    cursor = page.nextCursor;
    if (!cursor) return { uids, looked };
  }
  throw new Error('paging did not end');
}

for (const skew of [0, 30]) {
  describe(`history search by time${skew ? ', with clocks up to 30 s apart' : ''}`, () => {
    const h = history(600, skew);
    const times = h.ordered.map((kv) => h.runs.get(kv.key)!.creation_time);
    const bounds = timeBounds(times);
    const first = Math.min(...times);
    const last = Math.max(...times);

    it('gives exactly what the full scan gives, for every window, order, limit and page', () => {
      const edges = [
        first - 5,
        first,
        first + 1,
        first + 100,
        Math.floor((first + last) / 2),
        last,
        last + 1,
      ];
      for (const since of [undefined, ...edges])
        for (const until of [undefined, ...edges]) {
          if (since !== undefined && until !== undefined && since > until) continue;
          for (const order of ['asc', 'desc'])
            for (const limit of ['1', '7', '1000']) {
              const raw: Record<string, string> = { order, limit };
              if (since !== undefined) raw.since = String(since);
              if (until !== undefined) raw.until = String(until);
              for (const name of [undefined, 'other']) {
                const q = name ? { ...raw, name } : raw;
                assert.deepEqual(
                  allPages(h, q, bounds).uids,
                  allPages(h, q, undefined).uids,
                  JSON.stringify(q),
                );
              }
            }
        }
    });

    it('looks only at the runs inside the window, widened by no more than the disorder', () => {
      assert.equal(allPages(h, { since: String(last + 1), order: 'desc', limit: '50' }, bounds).looked, 0);
      assert.equal(allPages(h, { until: String(first), limit: '50' }, bounds).looked, 0);
      const inWindow = times.filter((t) => t >= first + 100 && t < first + 200).length;
      const windowed = allPages(h, { since: String(first + 100), until: String(first + 200) }, bounds);
      assert.equal(windowed.uids.length, inWindow);
      const near = times.filter(
        (t, i) => bounds.latestUpTo[i]! >= first + 100 && bounds.earliestFrom[i]! < first + 200,
      );
      assert.equal(windowed.looked, near.length);
      assert.ok(near.length <= inWindow + (skew ? 120 : 0), `${near.length} looked at for ${inWindow}`);
      // The scan, for comparison, reads every run.
      assert.equal(allPages(h, { since: String(last + 1) }, undefined).looked, h.ordered.length);
    });
  });
}

describe('RunReadModel.search by time', () => {
  async function model(creationTimes: readonly number[]) {
    const t = await memoryCluster();
    let revision = 0;
    for (const creation_time of creationTimes) {
      const run = { ...newRun('change_master', {}, undefined), creation_time };
      revision = t.store.put(t.keys.action(run.action_uid), JSON.stringify(run));
    }
    await t.view.waitFor(revision);
    return new RunReadModel(t.view, t.keys);
  }
  const found = (runs: RunReadModel, raw: Record<string, string>) =>
    runs.search(parseHistoryQuery(raw)!).runs.length;

  it('finds the runs of a window, in order or not (clocks that disagree between nodes)', async () => {
    const ordered = await model([100, 100, 101, 103, 103, 107]);
    assert.equal(found(ordered, { since: '101', until: '104' }), 3);
    assert.equal(found(ordered, { since: '108' }), 0);
    // A node whose clock is behind wrote the 4th run: the times go back, and it is still found.
    const skewed = await model([100, 105, 106, 99, 107]);
    assert.equal(found(skewed, { until: '100' }), 1);
    assert.equal(found(skewed, { since: '105', until: '107' }), 2);
  });
});
