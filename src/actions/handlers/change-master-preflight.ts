/**
 * change_master's own dry-run checks (src/actions/preflight.ts adds the checks every action shares):
 * the target exists and is active in this node's view, and its lease-bound liveness record is in
 * the store itself right now, so a view that lags a dead target cannot make the verdict go.
 */
import type { PreflightCheck, PreflightContext } from '../handler.js';
import { parseChangeMasterBody } from './change-master-params.js';

export async function changeMasterPreflight(body: unknown, ctx: PreflightContext): Promise<PreflightCheck[]> {
  const { node_uid: uid } = parseChangeMasterBody(body);
  const member = ctx.cluster.member(uid);
  const master = ctx.cluster.master();
  const noop = master?.node_uid === uid ? ' It is already the master: the run would change nothing.' : '';
  const active: PreflightCheck = !member
    ? { name: 'target_active', passed: false, message: `Node ${uid} does not exist.` }
    : !member.active
      ? { name: 'target_active', passed: false, message: `Node ${uid} is not active (no live heartbeat).` }
      : { name: 'target_active', passed: true, message: `Node ${uid} exists and is active.${noop}` };
  return [active, await leaseCheck(uid, ctx)];
}

async function leaseCheck(uid: number, ctx: PreflightContext): Promise<PreflightCheck> {
  const name = 'target_lease_fresh';
  try {
    return (await ctx.liveRecordInStore(uid))
      ? {
          name,
          passed: true,
          message: `Node ${uid}'s lease is alive in the store: its heartbeat is current.`,
        }
      : {
          name,
          passed: false,
          message: `Node ${uid} holds no live lease in the store (expired or never joined).`,
        };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { name, passed: false, message: `Node ${uid}'s lease could not be read from the store: ${why}` };
  }
}
