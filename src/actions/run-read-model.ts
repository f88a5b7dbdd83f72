/**
 * The questions the API asks about action runs (docs/design.md, "Layers"): the latest run of each
 * cluster action, the history of every retained run in submission order, and one run by uid. Answers
 * come from the watch-fed view, so they cost no store round trip.
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
import type { KeyValue, WatchEvent } from '../store/types.js';
import { queryHistory, timeBounds, type HistoryQuery, type TimeBounds } from './history-query.js';
import { actionRunRecord, runKey, type ActionRun } from './run.js';

/**
 * One retained run, named by uid and version: the version changes whenever the run does, so a
 * rendering of the run can be kept until its version moves.
 */
export interface RunVersion {
  readonly uid: string;
  readonly version: number;
}

/** One run at one version. */
export interface RunSnapshot extends RunVersion {
  readonly run: ActionRun;
}

/** One page of a history search, and the cursor of the next page when there is one. */
export interface RunPage {
  readonly runs: readonly RunVersion[];
  readonly nextCursor: string | undefined;
}

/** The retained runs in creation order, kept until they change. */
interface OrderedHistory {
  readonly source: readonly KeyValue[];
  readonly ordered: readonly KeyValue[];
  readonly runs: readonly RunVersion[];
  /** For time windows (history-query.ts, timeBounds); built on the first query that uses time. */
  timeBounds?: TimeBounds;
}

export class RunReadModel {
  #history: OrderedHistory | undefined;

  constructor(
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
  ) {}

  /** Moves with every change the view applies: answers built from this model may be kept until it moves. */
  get revision(): number {
    return this.view.revision;
  }

  /** The latest run of `name`, as `/v1/cluster/actions/<name>` shows it (until its status is removed). */
  latest(name: string): ActionRun | undefined {
    const uid = this.view.get(this.keys.clusterAction(name))?.value;
    return uid === undefined ? undefined : this.run(uid);
  }

  /**
   * `latest(name)`, with an absence confirmed by the store (cluster/view.ts, settle): a run submitted
   * on another node a moment ago is shown, not answered 404. A store out of reach rejects.
   */
  async settledLatest(name: string): Promise<ActionRun | undefined> {
    const seen = this.latest(name);
    if (seen) return seen;
    const pointer = this.keys.clusterAction(name);
    await this.view.settle(pointer);
    const uid = this.view.get(pointer)?.value;
    if (uid !== undefined) await this.view.settle(this.keys.action(uid));
    return this.latest(name);
  }

  /** The latest run of every cluster action that has one, by action name. */
  latestOfEach(): ActionRun[] {
    const runs: ActionRun[] = [];
    for (const pointer of this.view.list(this.keys.clusterActions)) {
      const run = this.run(pointer.value);
      if (run) runs.push(run);
    }
    return runs;
  }

  /**
   * Every retained run, in submission order: the store revision that created each (creation_time has
   * only whole seconds, so runs submitted in the same second would come out in uuid order). The list
   * is kept until the runs change (the view's folder list keeps its identity until then); do not
   * mutate it.
   */
  history(): readonly RunVersion[] {
    return this.#ordered().runs;
  }

  /** One page of the history that matches `query` (actions/history-query.ts). */
  search(query: HistoryQuery): RunPage {
    const history = this.#ordered();
    const timed = query.since !== undefined || query.until !== undefined;
    const page = queryHistory(
      history.ordered,
      query,
      (kv) => this.view.recordOf(kv, actionRunRecord),
      timed ? this.#timeBounds(history) : undefined,
    );
    return { runs: page.runs.map((kv) => this.#version(kv)), nextCursor: page.nextCursor };
  }

  /** Built once per change of the runs, and only when a query uses time. */
  #timeBounds(history: OrderedHistory): TimeBounds {
    history.timeBounds ??= timeBounds(
      history.ordered.map((kv) => this.view.recordOf(kv, actionRunRecord).creation_time),
    );
    return history.timeBounds;
  }

  #ordered(): OrderedHistory {
    const source = this.view.list(this.keys.actions);
    if (this.#history?.source !== source) {
      const ordered = [...source].sort(
        (a, b) => a.createRevision - b.createRevision || (a.key < b.key ? -1 : 1),
      );
      this.#history = { source, ordered, runs: ordered.map((kv) => this.#version(kv)) };
    }
    return this.#history;
  }

  #version(kv: KeyValue): RunVersion {
    return { uid: kv.key.slice(this.keys.actions.length), version: kv.modRevision };
  }

  /** How many runs are retained. */
  count(): number {
    return this.view.list(this.keys.actions).length;
  }

  /**
   * One run, if it is retained. A run the view lacks may have been accepted elsewhere moments ago, so
   * its absence is confirmed by the store (cluster/view.ts, getConfirmed); a store out of reach
   * rejects rather than answer a guess.
   */
  async confirmed(uid: string): Promise<RunSnapshot | undefined> {
    const key = this.keys.action(uid);
    const kv = await this.view.getConfirmed(key);
    if (!kv) return undefined;
    const run = this.view.recordOf(kv, actionRunRecord);
    return { uid, version: kv.modRevision, run };
  }

  /** Calls `listener` with the uid of every run the view changes; returns the way to stop. */
  watch(listener: (uid: string) => void): () => void {
    const prefix = this.keys.actions;
    const onChange = (events: readonly WatchEvent[]) => {
      for (const ev of events) if (ev.kv.key.startsWith(prefix)) listener(ev.kv.key.slice(prefix.length));
    };
    this.view.on('change', onChange);
    return () => this.view.off('change', onChange);
  }

  /**
   * One run once this node's view holds it. A run accepted elsewhere moments ago may not have reached
   * the view yet: the store is asked, and the view waited for (at most `ms`, else a StoreError, 503),
   * before answering none (cluster/view.ts, settle).
   */
  async viewed(uid: string, ms = 3000): Promise<RunSnapshot | undefined> {
    await this.view.settle(this.keys.action(uid), ms);
    return this.current(uid);
  }

  /** One run as this node's view holds it, with its version. */
  current(uid: string): RunSnapshot | undefined {
    const kv = this.view.get(this.keys.action(uid));
    return kv ? { uid, version: kv.modRevision, run: this.view.recordOf(kv, actionRunRecord) } : undefined;
  }

  /** One run, if it is retained. */
  run(uid: string): ActionRun | undefined {
    return this.view.read(runKey(this.keys, uid));
  }
}
