/**
 * What a client learns when a run stands in its way: every 409 about an action names the blocking
 * run (its `action_uid`, `status` and `progress`) next to `error_code` and `description`, so a
 * script can follow or report that run without another request (docs/errors.md).
 */
import { BosunError } from '../errors/catalogue.js';
import type { ActionRun } from './run.js';

/** `cancellable_reason` once a hand-over intent is out: the target may already be master. */
export const PAST_HAND_OVER_INTENT = 'the target may take over at any moment';

export type BlockingRun = {
  readonly action_uid: string;
  readonly status: string;
  readonly progress: number;
};

export function blockingRun(run: Pick<ActionRun, 'action_uid' | 'status' | 'progress'>): BlockingRun {
  return { action_uid: run.action_uid, status: run.status, progress: run.progress };
}

/** 409 `action_in_progress`, naming the run that holds the action's single-instance guard. */
export function actionInProgress(
  name: string,
  holder: ActionRun | undefined,
  holderUid?: string,
): BosunError {
  const uid = holder?.action_uid ?? holderUid;
  return new BosunError(
    'action_in_progress',
    `A ${name} action is already queued or in progress${uid ? ` (action_uid ${uid})` : ''}.`,
    { details: holder ? blockingRun(holder) : uid ? { action_uid: uid } : undefined },
  );
}

/** 409 `action_not_cancellable`: a DELETE after the run's point of no return. */
export function notCancellable(run: ActionRun): BosunError {
  const reason = run.cancellable_reason ?? 'the run is past its point of no return';
  return new BosunError(
    'action_not_cancellable',
    `The ${run.name} run ${run.action_uid} can no longer be cancelled: ${reason}.`,
    { details: { ...blockingRun(run), cancellable_reason: reason } },
  );
}
