/**
 * One run's stream (`GET /v1/actions/{uid}/events`): the run as it stands (unless the client's
 * `Last-Event-ID` shows it has it), then its changes from the feed, ending after a terminal status.
 */
import type { RunReadModel, RunSnapshot } from '../../actions/run-read-model.js';
import { isTerminal, type ActionStatus } from '../../actions/status.js';
import { frameEvent, type FeedBatch } from '../../cluster/change-feed.js';
import { BosunError } from '../../errors/catalogue.js';
import { toWireRun } from '../wire.js';
import type { BatchFilter } from './sse-connection.js';

export const idFrame = (revision: number, text: string): string => `id: ${revision}\n${text}\n`;

/** The run's own `action` events of a batch; `end` after a terminal status. */
export function runFilter(uid: string): BatchFilter {
  return (batch: FeedBatch) => {
    let frame = '';
    let end = false;
    for (const e of batch.events) {
      if (e.type !== 'action' || e.subject !== uid) continue;
      frame += idFrame(batch.revision, e.text);
      end = isTerminal((e.data as { status: ActionStatus }).status);
    }
    return { frame, end };
  };
}

/** The run once this node's view holds it (actions/run-read-model.ts, `viewed`); 404 if it is not retained. */
export async function viewedRun(runs: RunReadModel, uid: string): Promise<RunSnapshot> {
  const found = await runs.viewed(uid);
  if (!found) throw new BosunError('action_not_found', `No action with uid ${uid}.`);
  return found;
}

/** The run as it stands, as one `action` event with `revision` as its id. */
export function currentRun(runs: RunReadModel, uid: string) {
  return (revision: number): { frame: string; end: boolean } => {
    const run = runs.run(uid);
    if (!run) return { frame: '', end: true };
    return { frame: idFrame(revision, frameEvent('action', toWireRun(run))), end: isTerminal(run.status) };
  };
}

/**
 * What to send before following: the run as it stands, unless a replayable Last-Event-ID shows the
 * client has it; `close` when the client already has the terminal status.
 */
export function runOpening(
  runs: RunReadModel,
  uid: string,
  after: number | undefined,
  gone: boolean,
): { frame: string; close: boolean } {
  const { run, version } = runs.current(uid)!;
  if (after !== undefined && !gone) return { frame: '', close: isTerminal(run.status) && version <= after };
  if (after !== undefined && version <= after) return { frame: '', close: isTerminal(run.status) };
  const first = currentRun(runs, uid)(version);
  return { frame: first.frame, close: first.end };
}
