/**
 * The `?wait=` parameter of `GET /v1/actions/{uid}` and `GET /v1/cluster/actions/{name}` (README.md,
 * "Waiting for a run"): a duration such as `30s`, `500ms` or `1m` (a bare number is seconds), at most
 * MAX_WAIT_MS. The bound stays under the listeners' idle timeout (api/limits.ts: a connection moving
 * no bytes for 60 s is closed), so a waiting request is never cut off by it.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';

import type { RunReadModel } from '../actions/run-read-model.js';
import { RunWaiter } from '../actions/run-waiter.js';
import { BosunError } from '../errors/catalogue.js';

export const MAX_WAIT_MS = 30_000;

/** The query schema: `wait` is optional and other parameters pass, as they did before it existed. */
export const WaitQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.String({ maxLength: 32, description: 'a duration: 30s, 500ms, 1m; at most 30s' }),
    ),
  },
  { additionalProperties: true },
);

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Milliseconds to wait; undefined without `wait`; 400 `invalid_schema` for anything but a bounded duration. */
export function parseWait(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^([0-9]{1,9})(ms|s|m)?$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * units[m[2] ?? 's']! : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new BosunError(
      'invalid_schema',
      `"wait" must be a duration such as 30s, 500ms or 1m, not "${raw.slice(0, 40)}".`,
    );
  }
  if (ms > MAX_WAIT_MS) {
    throw new BosunError(
      'invalid_schema',
      `"wait" is at most ${MAX_WAIT_MS / 1000}s; got "${raw.slice(0, 40)}".`,
    );
  }
  return ms;
}

/** A waiter bound to a route plugin: released when the node stops, and per request when the client goes. */
export function installRunWaiter(app: FastifyInstance, runs: RunReadModel) {
  const waiter = new RunWaiter(runs);
  app.addHook('preClose', async () => waiter.releaseAll());
  app.addHook('onClose', async () => waiter.close());
  return async (reply: FastifyReply, uid: string, ms: number | undefined): Promise<void> => {
    if (ms === undefined) return;
    const gone = new AbortController();
    const onClose = () => gone.abort();
    reply.raw.once('close', onClose);
    await waiter.wait(uid, ms, gone.signal);
    reply.raw.off('close', onClose);
  };
}
