/**
 * Waiting for a run by following its event stream (`GET /v1/actions/{uid}/events`) instead of
 * polling: each change arrives when it is written, across node failures (event-stream.ts). A server
 * without the streams (an older Bosun: 404 `not_found` for the route) is polled as before.
 */
import type { BosunClient, WaitOptions } from './client.js';
import { ApiError } from './errors.js';
import { isTerminalStatus, type ActionRun } from './types.js';

export async function watchRun(
  client: BosunClient,
  actionUid: string,
  options: WaitOptions = {},
): Promise<ActionRun> {
  let last: ActionRun | undefined;
  try {
    await client.follow(`/v1/actions/${encodeURIComponent(actionUid)}/events`, {
      signal: options.signal,
      retryForMs: options.retryForMs,
      onReconnect: (err) => options.onRetry?.(err),
      onEvent: (ev) => {
        if (ev.event !== 'action') return undefined;
        const run = JSON.parse(ev.data) as ActionRun;
        last = run;
        options.onUpdate?.(run);
        return isTerminalStatus(run.status) ? 'stop' : undefined;
      },
    });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.errorCode === 'not_found') {
      return client.waitForRun(actionUid, options);
    }
    throw err;
  }
  return last!;
}
