/**
 * One run's stream (`GET /v1/actions/{uid}/events`): the run as it stands (unless the client's
 * `Last-Event-ID` shows it has it), then its changes from the feed, ending after a terminal status.
 */
import { runKey } from '../../actions/run.js';
import { isTerminal, type ActionStatus } from '../../actions/status.js';
import { frameEvent, type FeedBatch } from '../../cluster/change-feed.js';
import type { ClusterKeys } from '../../cluster/keys.js';
import type { ClusterView } from '../../cluster/view.js';
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

/**
 * The run's key once this node's view holds it. A run accepted elsewhere moments ago may not have
 * reached the view yet: the store is asked, and the view waited for, before answering 404.
 */
export async function viewedRun(view: ClusterView, keys: ClusterKeys, uid: string) {
  const key = runKey(keys, uid);
  const confirmed = await view.getConfirmed(key.key);
  if (confirmed && !view.get(key.key)) await view.waitFor(confirmed.modRevision, 3000).catch(() => undefined);
  if (!confirmed || !view.get(key.key))
    throw new BosunError('action_not_found', `No action with uid ${uid}.`);
  return key;
}

/** The run as it stands, as one `action` event with `revision` as its id. */
export function currentRun(view: ClusterView, keys: ClusterKeys, uid: string) {
  const key = runKey(keys, uid);
  return (revision: number): { frame: string; end: boolean } => {
    const run = view.read(key);
    if (!run) return { frame: '', end: true };
    return { frame: idFrame(revision, frameEvent('action', toWireRun(run))), end: isTerminal(run.status) };
  };
}

/**
 * What to send before following: the run as it stands, unless a replayable Last-Event-ID shows the
 * client has it; `close` when the client already has the terminal status.
 */
export function runOpening(
  view: ClusterView,
  keys: ClusterKeys,
  uid: string,
  after: number | undefined,
  gone: boolean,
): { frame: string; close: boolean } {
  const kv = view.get(runKey(keys, uid).key)!;
  const run = view.read(runKey(keys, uid))!;
  if (after !== undefined && !gone)
    return { frame: '', close: isTerminal(run.status) && kv.modRevision <= after };
  if (after !== undefined && kv.modRevision <= after) return { frame: '', close: isTerminal(run.status) };
  const first = currentRun(view, keys, uid)(kv.modRevision);
  return { frame: first.frame, close: first.end };
}
