/**
 * An action run as stored under `actions/<action_uid>`, and the pure functions that move it between
 * statuses. Each `moveTo*` checks the move against the transition table (status.ts) and throws when
 * it is not allowed, so no code path can write a move the table does not allow. The guarded moves
 * below say instead whether a move is allowed from where the run is now: they return undefined when
 * it is not, which is what a compare-and-swap writer's `mutate` returns to write nothing (the guard
 * stays inside the write, as pg-boss keeps it).
 *
 * The stored shape is already the Redis Enterprise wire shape (docs/re-contract.md, "The action object"): the
 * required fields, then additive ones. Additive fields never change the meaning of a required one.
 */
import { randomUUID } from 'node:crypto';

import { Type } from '@sinclair/typebox';

import type { ClusterKeys } from '../cluster/keys.js';
import { keyFolder, recordType, typedKey, type Key, type KeyFolder } from '../store/typed-key.js';
import { ActionStatus, assertMove, canMove, takesProgress } from './status.js';

export interface ActionRun {
  readonly action_uid: string;
  readonly name: string;
  readonly status: ActionStatus;
  /** 0 to 100, monotonic. */
  readonly progress: number;
  /** The node executing the run (a string, as in Redis's examples); set when the master claims it. */
  readonly node_uid?: string | undefined;
  /** Unix seconds. */
  readonly creation_time: number;
  readonly error_code?: string | undefined;
  readonly error_message?: string | undefined;
  // ---- additive fields ----
  /** The handler's current phase, such as `validating` or `handing_over`. */
  readonly phase?: string | undefined;
  /** The email of the user who submitted the run. */
  readonly requester?: string | undefined;
  /** The id of the request that submitted the run (its X-Request-ID, or the one the server gave it). */
  readonly request_id?: string | undefined;
  /** The parameters the run was submitted with (the POST body, validated). */
  readonly params: Readonly<Record<string, unknown>>;
  /** ISO 8601 times. */
  readonly start_time?: string | undefined;
  readonly end_time?: string | undefined;
  /** What the run achieved, set on completion (and on failure when something is known). */
  readonly outcome?: Readonly<Record<string, unknown>> | undefined;
  /** Whether a DELETE can still stop the run before its point of no return. */
  readonly cancellable: boolean;
  /** Why `cancellable` is false, once it is (src/actions/conflict.ts has the wordings). */
  readonly cancellable_reason?: string | undefined;
  /** Set by a DELETE that arrived while the run was starting; the engine turns it into `cancelling`. */
  readonly cancel_requested?: boolean | undefined;
  /** Handler-private state a new master needs to finish or fail the run truthfully. */
  readonly checkpoint?: Readonly<Record<string, unknown>> | undefined;
}

const optionalString = Type.Optional(Type.String());
const fields = Type.Record(Type.String(), Type.Unknown());

/** What is checked when a stored run enters (store/typed-key.ts). */
const actionRunSchema = Type.Object({
  action_uid: Type.String(),
  name: Type.String(),
  status: Type.Union(Object.values(ActionStatus).map((s) => Type.Literal(s))),
  progress: Type.Number(),
  node_uid: optionalString,
  creation_time: Type.Number(),
  error_code: optionalString,
  error_message: optionalString,
  phase: optionalString,
  requester: optionalString,
  request_id: optionalString,
  params: fields,
  start_time: optionalString,
  end_time: optionalString,
  outcome: Type.Optional(fields),
  cancellable: Type.Boolean(),
  cancellable_reason: optionalString,
  cancel_requested: Type.Optional(Type.Boolean()),
  checkpoint: Type.Optional(fields),
});

export const actionRunRecord = recordType<ActionRun>('action run', actionRunSchema);

/** The typed key of one run, on the path cluster/keys.ts names. */
export function runKey(keys: ClusterKeys, uid: string): Key<ActionRun> {
  return typedKey(keys.action(uid), actionRunRecord);
}

export function runsFolder(keys: ClusterKeys): KeyFolder<ActionRun> {
  return keyFolder(keys.actions, actionRunRecord);
}

export function newRun(
  name: string,
  params: Record<string, unknown>,
  requester: string | undefined,
  requestId?: string,
): ActionRun {
  return {
    action_uid: randomUUID(),
    name,
    status: 'queued',
    progress: 0,
    creation_time: Math.floor(Date.now() / 1000),
    params,
    requester,
    ...(requestId !== undefined ? { request_id: requestId } : {}),
    cancellable: true,
  };
}

function move(run: ActionRun, to: ActionStatus, fields: Partial<ActionRun> = {}): ActionRun {
  assertMove(run.status, to);
  return { ...run, ...fields, status: to };
}

export function moveToStarting(run: ActionRun, nodeUid: number): ActionRun {
  return move(run, 'starting', { node_uid: String(nodeUid), start_time: new Date().toISOString() });
}

export function moveToRunning(run: ActionRun): ActionRun {
  return move(run, 'running');
}

export function moveToCancelling(run: ActionRun): ActionRun {
  return move(run, 'cancelling', { cancel_requested: undefined });
}

export function moveToCancelled(run: ActionRun, outcome?: Record<string, unknown>): ActionRun {
  return move(run, 'cancelled', {
    end_time: new Date().toISOString(),
    cancellable: false,
    outcome: outcome ?? run.outcome,
  });
}

export function moveToCompleted(run: ActionRun, outcome: Record<string, unknown> | undefined): ActionRun {
  return move(run, 'completed', {
    progress: 100,
    end_time: new Date().toISOString(),
    cancellable: false,
    outcome,
    phase: 'done',
  });
}

export function moveToFailed(
  run: ActionRun,
  errorCode: string,
  errorMessage: string,
  outcome?: Record<string, unknown>,
): ActionRun {
  return move(run, 'failed', {
    error_code: errorCode,
    error_message: errorMessage,
    end_time: new Date().toISOString(),
    cancellable: false,
    outcome: outcome ?? run.outcome,
  });
}

/** The additive fields a handler may record on its run (actions/handler.ts, `update`). */
export interface RunUpdate {
  readonly phase?: string;
  readonly progress?: number;
  readonly cancellable?: boolean;
  /** Why the run is no longer cancellable; shown to clients next to `cancellable: false`. */
  readonly cancellable_reason?: string;
  readonly checkpoint?: Record<string, unknown>;
  readonly outcome?: Record<string, unknown>;
}

/** Applies a handler's additive fields (and progress, by `withProgress`'s rules). */
export function withUpdate(run: ActionRun, fields: RunUpdate): ActionRun {
  const next = withProgress(run, fields.progress ?? run.progress, fields.phase);
  return {
    ...next,
    ...(fields.cancellable !== undefined ? { cancellable: fields.cancellable } : {}),
    ...(fields.cancellable_reason !== undefined ? { cancellable_reason: fields.cancellable_reason } : {}),
    ...(fields.checkpoint !== undefined ? { checkpoint: fields.checkpoint } : {}),
    ...(fields.outcome !== undefined ? { outcome: fields.outcome } : {}),
  };
}

/** Progress only moves forward, stays within 0..100, and changes only while running or cancelling. */
export function withProgress(run: ActionRun, pct: number, phase: string | undefined): ActionRun {
  if (!takesProgress(run.status)) return run;
  const clamped = Math.min(100, Math.max(0, Number.isFinite(pct) ? pct : 0));
  return { ...run, progress: Math.max(run.progress, clamped), phase: phase ?? run.phase };
}

// ---- guarded moves: the moved run, or undefined when the table does not allow the move ----

/** The master claims a queued run: queued → starting → running (→ cancelling when a cancel waits). */
export function claim(run: ActionRun, nodeUid: number): ActionRun | undefined {
  if (run.status !== 'queued') return undefined;
  const running = moveToRunning(moveToStarting(run, nodeUid));
  return run.cancel_requested ? moveToCancelling(running) : running;
}

/** A queued run that cannot start at all (no handler): queued → starting → failed. */
export function failToStart(
  run: ActionRun,
  nodeUid: number,
  errorCode: string,
  errorMessage: string,
): ActionRun | undefined {
  return run.status === 'queued'
    ? moveToFailed(moveToStarting(run, nodeUid), errorCode, errorMessage)
    : undefined;
}

/** The handler finished its work: from running or cancelling (past the point of no return). */
export function complete(
  run: ActionRun,
  outcome: Record<string, unknown> | undefined,
): ActionRun | undefined {
  return canMove(run.status, 'completed') ? moveToCompleted(run, outcome) : undefined;
}

/** The run failed: from starting, running or cancelling. */
export function fail(
  run: ActionRun,
  errorCode: string,
  errorMessage: string,
  outcome?: Record<string, unknown>,
): ActionRun | undefined {
  return canMove(run.status, 'failed') ? moveToFailed(run, errorCode, errorMessage, outcome) : undefined;
}

/** The handler honoured a cancel: a running run passes through cancelling on its way to cancelled. */
export function finishCancel(run: ActionRun, outcome?: Record<string, unknown>): ActionRun | undefined {
  if (run.status === 'running') return moveToCancelled(moveToCancelling(run), outcome);
  return run.status === 'cancelling' ? moveToCancelled(run, outcome) : undefined;
}

/** What a DELETE does to a run that has not finished (docs/re-contract.md, "Cluster actions"). */
export type CancelRequest =
  /** Queued: cancelled at once (the caller also releases `active/<name>`). */
  | { readonly result: 'cancelled'; readonly run: ActionRun }
  /** Starting: flagged, and the engine turns the flag into cancelling; running: cancelling now. */
  | { readonly result: 'cancelling'; readonly run: ActionRun }
  /** Already cancelling: nothing to write. */
  | { readonly result: 'cancelling'; readonly run: undefined }
  /** Starting or running past its point of no return (`cancellable: false`): refused, nothing written. */
  | { readonly result: 'not_cancellable'; readonly run: undefined };

/** The move a DELETE makes, or undefined for a finished run (whose status a DELETE removes instead). */
export function requestCancel(run: ActionRun): CancelRequest | undefined {
  switch (run.status) {
    case 'queued':
      return { result: 'cancelled', run: moveToCancelled(run) };
    case 'starting':
      if (!run.cancellable) return { result: 'not_cancellable', run: undefined };
      return { result: 'cancelling', run: { ...run, cancel_requested: true } };
    case 'running':
      if (!run.cancellable) return { result: 'not_cancellable', run: undefined };
      return { result: 'cancelling', run: moveToCancelling(run) };
    case 'cancelling':
      return { result: 'cancelling', run: undefined };
    default:
      return undefined;
  }
}
