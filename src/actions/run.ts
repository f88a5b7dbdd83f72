/**
 * An action run as stored under `actions/<action_uid>`, and the pure functions that move it between
 * statuses. Each function checks the move against the transition table, so no code path can write a
 * move the table does not allow.
 *
 * The stored shape is already the Redis Enterprise wire shape (re-api.md §2.1): the required fields,
 * then additive ones. Additive fields never change the meaning of a required one.
 */
import { randomUUID } from 'node:crypto';

import { Type } from '@sinclair/typebox';

import type { ClusterKeys } from '../cluster/keys.js';
import { keyFolder, recordType, typedKey, type Key, type KeyFolder } from '../store/typed-key.js';
import { ActionStatus, assertMove } from './status.js';

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

/** Applies a handler's additive fields (and progress, by `withProgress`'s rules). */
export function withUpdate(
  run: ActionRun,
  fields: {
    readonly phase?: string;
    readonly progress?: number;
    readonly cancellable?: boolean;
    readonly cancellable_reason?: string;
    readonly checkpoint?: Record<string, unknown>;
    readonly outcome?: Record<string, unknown>;
  },
): ActionRun {
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
  if (run.status !== 'running' && run.status !== 'cancelling') return run;
  const clamped = Math.min(100, Math.max(0, Number.isFinite(pct) ? pct : 0));
  return { ...run, progress: Math.max(run.progress, clamped), phase: phase ?? run.phase };
}
