/**
 * The statuses of an action run and the only moves allowed between them: Redis Enterprise's action
 * object (docs/re-contract.md, "The action object"), without 8.0's `aborted`.
 *
 * - queued:     accepted and stored; waits for the master to claim it.
 *               → starting (the master claims it) | cancelled (DELETE before it started)
 * - starting:   claimed by the master, which is preparing the handler.
 *               → running | failed (the handler could not start, or the master died)
 * - running:    the handler is working; progress moves from 0 to 100 and never back.
 *               → completed | failed | cancelling (DELETE while running)
 * - cancelling: a cancel was requested; the handler unwinds.
 *               → cancelled, or completed | failed when the work had passed its point of no return
 * - cancelled, completed, failed: terminal. `error_code` and `error_message` exist only on failed.
 *
 * Invariants: progress changes only in running or cancelling; a run of a given name is queued or in
 * flight at most once at a time (the `active/<name>` key); terminal runs never change again.
 */

export const ActionStatus = {
  queued: 'queued',
  starting: 'starting',
  running: 'running',
  cancelling: 'cancelling',
  cancelled: 'cancelled',
  completed: 'completed',
  failed: 'failed',
} as const;

export type ActionStatus = (typeof ActionStatus)[keyof typeof ActionStatus];

const transitions: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  queued: ['starting', 'cancelled'],
  starting: ['running', 'failed'],
  running: ['completed', 'failed', 'cancelling'],
  cancelling: ['cancelled', 'completed', 'failed'],
  cancelled: [],
  completed: [],
  failed: [],
};

/** The statuses in which a run's progress may change: the handler is at work. */
const progressing: ReadonlySet<ActionStatus> = new Set(['running', 'cancelling']);

export const allStatuses: readonly ActionStatus[] = Object.values(ActionStatus);

/** Whether a run's progress (and phase) may change in this status. */
export function takesProgress(status: ActionStatus): boolean {
  return progressing.has(status);
}

export function canMove(from: ActionStatus, to: ActionStatus): boolean {
  return transitions[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: ActionStatus,
    readonly to: ActionStatus,
  ) {
    super(`an action cannot move from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertMove(from: ActionStatus, to: ActionStatus): void {
  if (!canMove(from, to)) throw new IllegalTransitionError(from, to);
}

export function isTerminal(status: ActionStatus): boolean {
  return transitions[status].length === 0;
}

/** Whether the run is queued or in flight: what the single-instance rule counts. */
export function isActive(status: ActionStatus): boolean {
  return !isTerminal(status);
}

export function isStatus(value: unknown): value is ActionStatus {
  return typeof value === 'string' && (allStatuses as readonly string[]).includes(value);
}
