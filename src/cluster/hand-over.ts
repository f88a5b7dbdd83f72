/**
 * The old master's half of the hand-over: write the intent, then wait for the target to take the
 * master key, for the target to vanish, for the timeout or for a cancel; withdraw the intent in the
 * last three cases (DESIGN.md, "Hand-over" and "Timeout").
 */
import { RunCancelled } from '../errors/abort-reasons.js';
import type { Compare, Op } from '../store/types.js';
import type { ClusterKeys } from './keys.js';
import { NotMasterError, type MasterRole } from './master.js';
import type { ClusterView } from './view.js';

export type HandOverOutcome = 'taken_over' | 'timeout' | 'target_lost' | 'cancelled';

export interface HandOverOptions {
  readonly timeoutMs: number;
  /** Aborting with a RunCancelled reason withdraws the intent; any other reason means "deposed". */
  readonly signal: AbortSignal;
  /** Writes to make in the intent's own transaction, when their compares hold (bookkeeping). */
  readonly alongside?: { compare: Compare[]; ops: Op[] } | undefined;
}

export async function handOver(
  master: MasterRole,
  view: ClusterView,
  keys: ClusterKeys,
  to: number,
  actionUid: string,
  options: HandOverOptions,
): Promise<HandOverOutcome> {
  const { revision } = await master.writeIntent(to, actionUid, options.alongside);
  const takenOver = (): boolean => {
    const current = view.read(keys.master);
    return current?.node_uid === to && current.via_action === actionUid;
  };

  const waited = await new Promise<HandOverOutcome | 'deposed'>((resolve) => {
    const check = (): void => {
      if (takenOver()) finish('taken_over');
      else if (!view.get(keys.node(to).key)) finish('target_lost');
    };
    const onAbort = (): void =>
      finish(options.signal.reason instanceof RunCancelled ? 'cancelled' : 'deposed');
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs);
    const finish = (outcome: HandOverOutcome | 'deposed'): void => {
      clearTimeout(timer);
      view.off('change', check);
      options.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    view.on('change', check);
    options.signal.addEventListener('abort', onAbort);
    if (options.signal.aborted) onAbort();
    else check();
  });

  if (waited === 'taken_over') return waited;
  if (waited === 'deposed') {
    if (takenOver()) return 'taken_over';
    throw new NotMasterError('deposed while handing over');
  }
  // The target may win the race against the withdrawal; the fence decides who did.
  const withdrawn = await master.withdrawIntent(revision);
  return withdrawn ? waited : 'taken_over';
}
