/**
 * Each run's wire JSON in one form, kept until the run changes: a list of 10,000 runs is then joined
 * rather than serialised again whenever any one of them moves.
 */
import type { ActionRun } from '../actions/run.js';
import type { RunReadModel, RunSnapshot, RunVersion } from '../actions/run-read-model.js';

export class RunJsonCache {
  readonly #serialized = new Map<string, { version: number; json: string }>();

  constructor(
    private readonly runs: RunReadModel,
    private readonly render: (run: ActionRun) => unknown,
  ) {}

  /** The JSON of the run at `ref`'s version (a retained run, or a snapshot that carries it). */
  json(ref: RunVersion | RunSnapshot): string {
    const hit = this.#serialized.get(ref.uid);
    if (hit?.version === ref.version) return hit.json;
    const run = 'run' in ref ? ref.run : this.runs.run(ref.uid)!;
    const json = JSON.stringify(this.render(run));
    // Pruned runs would otherwise stay here forever; rebuilding on growth keeps it to the live set.
    if (this.#serialized.size > 2 * this.runs.count() + 100) this.#serialized.clear();
    this.#serialized.set(ref.uid, { version: ref.version, json });
    return json;
  }
}
