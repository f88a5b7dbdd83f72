/**
 * The questions the API asks about action runs (docs/design.md, "Layers"): the latest run of each
 * cluster action, the history of every retained run in submission order, and one run by uid. Answers
 * come from the watch-fed view, so they cost no store round trip.
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterView } from '../cluster/view.js';
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

export class RunReadModel {
  #history: { revision: number; runs: readonly RunVersion[] } | undefined;

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
   * is kept until the view moves; do not mutate it.
   */
  history(): readonly RunVersion[] {
    const revision = this.view.revision;
    if (this.#history?.revision !== revision) {
      const from = this.keys.actions.length;
      const runs = [...this.view.list(this.keys.actions)]
        .sort((a, b) => a.createRevision - b.createRevision)
        .map((kv) => ({ uid: kv.key.slice(from), version: kv.modRevision }));
      this.#history = { revision, runs };
    }
    return this.#history.runs;
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

  /** One run, if it is retained. */
  run(uid: string): ActionRun | undefined {
    return this.view.read(runKey(this.keys, uid));
  }
}
