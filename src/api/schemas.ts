/** Request and response schemas shared by the routes (JSON Schema through TypeBox). */
import { Type } from '@fastify/type-provider-typebox';

export const ErrorBody = Type.Object({ error_code: Type.String(), description: Type.String() });

/**
 * A 409 or 422 about an action: the error body, plus the run that blocks the request when there is
 * one (docs/errors.md, "action_in_progress").
 */
export const ConflictBody = Type.Object(
  {
    error_code: Type.String(),
    description: Type.String(),
    action_uid: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    progress: Type.Optional(Type.Number()),
    cancellable_reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** An action run on the wire; additive fields pass through. */
export const ActionRunBody = Type.Object(
  {
    action_uid: Type.String(),
    name: Type.String(),
    status: Type.String(),
    progress: Type.Number(),
    node_uid: Type.Optional(Type.String()),
    creation_time: Type.Integer(),
    error_code: Type.Optional(Type.String()),
    error_message: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** A task entry of `/v1/actions`: RE's strings for `progress`, `creation_time` and `node_uid`. */
export const ActionTaskBody = Type.Object(
  {
    action_uid: Type.String(),
    task_id: Type.String(),
    name: Type.String(),
    status: Type.String(),
    progress: Type.String(),
    node_uid: Type.Optional(Type.String()),
    creation_time: Type.String(),
    error_code: Type.Optional(Type.String()),
    error_message: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** A `/v2/actions` object (RE 7.22+). */
export const V2ActionBody = Type.Object(
  {
    action_uid: Type.String(),
    action_type: Type.String(),
    name: Type.String(),
    status: Type.String(),
    progress: Type.Number(),
    creation_time: Type.Integer(),
    additional_info: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

/** A dry run's answer (src/actions/preflight.ts): the same shape for go and no-go. */
export const PreflightBody = Type.Object(
  {
    action: Type.String(),
    dry_run: Type.Literal(true),
    verdict: Type.Union([Type.Literal('go'), Type.Literal('no-go')]),
    checks: Type.Array(
      Type.Object(
        { name: Type.String(), passed: Type.Boolean(), message: Type.String() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ActionNameParams = Type.Object({ action: Type.String({ minLength: 1, maxLength: 128 }) });

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  406: ErrorBody,
  409: ConflictBody,
  503: ErrorBody,
};
