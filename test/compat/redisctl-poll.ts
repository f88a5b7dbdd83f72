/**
 * redisctl's action poll loop, re-told in TypeScript (redisctl crates/redisctl-core/src/enterprise/
 * progress.rs `poll_action`): GET /v1/actions/{uid}, decode the body as the crate's `Action`
 * (redis-enterprise-rs src/actions.rs), then `completed` → Ok; `failed` or `cancelled` → an error
 * carrying `action.error` or "Action <status>"; anything else → sleep and poll again, until the
 * timeout. A body that does not decode ends the loop with that error, as `handler.get(..)?` does.
 */
import { decode } from './decode.js';
import { V1Task } from './client-types.js';

export type PollOutcome =
  | { readonly ok: true; readonly action: Record<string, unknown>; readonly polls: number }
  | { readonly ok: false; readonly error: string; readonly polls: number };

export async function pollAction(
  get: (path: string) => Promise<{ status: number; body: unknown }>,
  actionUid: string,
  options: { timeoutMs: number; intervalMs: number },
): Promise<PollOutcome> {
  const started = Date.now();
  let polls = 0;
  for (;;) {
    if (Date.now() - started > options.timeoutMs) {
      return { ok: false, error: `TaskTimeout(${options.timeoutMs} ms)`, polls };
    }
    polls++;
    const res = await get(`/v1/actions/${actionUid}`);
    if (res.status !== 200) return { ok: false, error: `ApiError ${res.status}`, polls };
    const problems = decode(res.body, V1Task);
    if (problems.length > 0) return { ok: false, error: `decode error: ${problems.join('; ')}`, polls };
    const action = res.body as Record<string, unknown>;
    const status = action.status as string;
    if (status === 'completed') return { ok: true, action, polls };
    if (status === 'failed' || status === 'cancelled') {
      const error = typeof action.error === 'string' ? action.error : `Action ${status}`;
      return { ok: false, error, polls };
    }
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}
