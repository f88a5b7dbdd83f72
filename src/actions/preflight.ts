/**
 * The dry-run preflight of a cluster action (`POST /v1/cluster/actions/<name>?dry_run=true`): the
 * checks a real submit would pass or fail, each with a name, a pass/fail and a message, and a
 * verdict. It writes nothing: reads only, from the view and (for quorum and leases) the store.
 *
 * The body has one shape whether the verdict is go or no-go, and is answered with 200 either way:
 * a script reads `verdict`, a person reads the table (docs/decisions.md, "Dry-run preflight").
 * Only a malformed request (a body no run could take) is a 400, exactly as the real POST answers it.
 */
import type { ClusterKeys } from '../cluster/keys.js';
import type { ClusterState } from '../cluster/state.js';
import type { ClusterView } from '../cluster/view.js';
import { badRequestCodes, BosunError } from '../errors/catalogue.js';
import type { Store } from '../store/types.js';
import type { ActionHandler, PreflightCheck, PreflightContext } from './handler.js';
import type { HandlerRegistry } from './registry.js';
import { runKey } from './run.js';

export type { PreflightCheck } from './handler.js';

export type Verdict = 'go' | 'no-go';

export interface PreflightResult {
  readonly action: string;
  readonly dry_run: true;
  readonly verdict: Verdict;
  readonly checks: PreflightCheck[];
}

/** Who asks, as far as the checks care. */
export interface PreflightRequester {
  readonly name: string | undefined;
  /** Whether the requester's role holds `start_cluster_action`. */
  readonly mayStart: boolean;
  readonly role: string;
}

/** How long the quorum read may take before the store counts as unreachable. */
export const QUORUM_READ_TIMEOUT_MS = 2000;

export class Preflight {
  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly state: ClusterState,
    private readonly registry: HandlerRegistry,
    /** Whether this node can vouch for its view (the same test that makes other requests 503). */
    private readonly healthy: () => boolean,
  ) {}

  async run(name: string, body: unknown, requester: PreflightRequester): Promise<PreflightResult> {
    const handler = this.registry.get(name);
    if (!handler) {
      throw new BosunError(
        'unsupported_action',
        `Unknown cluster action "${name}". Supported: ${this.registry.names().join(', ')}.`,
      );
    }
    const ctx: PreflightContext = {
      cluster: this.state,
      liveRecordInStore: async (uid) =>
        (await this.#withTimeout(this.store.get(this.keys.node(uid).key))) !== undefined,
    };
    const own = await this.#handlerChecks(handler, body, ctx);
    const checks = [
      ...own,
      await this.#storeCheck(),
      this.#inFlightCheck(name),
      permissionCheck(name, requester),
    ];
    return { action: name, dry_run: true, verdict: checks.every((c) => c.passed) ? 'go' : 'no-go', checks };
  }

  /** The handler's own checks; without any, whether its validation passes. A 400 stays a 400. */
  async #handlerChecks(
    handler: ActionHandler<unknown>,
    body: unknown,
    ctx: PreflightContext,
  ): Promise<PreflightCheck[]> {
    if (handler.preflight) return handler.preflight(body ?? {}, ctx);
    try {
      handler.validate(body ?? {}, this.state);
      return [{ name: 'params_valid', passed: true, message: 'The parameters are valid.' }];
    } catch (err) {
      if (err instanceof BosunError && !badRequestCodes.has(err.code))
        return [{ name: 'params_valid', passed: false, message: err.message }];
      throw err;
    }
  }

  /** A read from the store itself: on etcd a linearizable read, which needs a quorum of members. */
  async #storeCheck(): Promise<PreflightCheck> {
    const name = 'store_quorum';
    if (!this.healthy()) {
      return { name, passed: false, message: 'This node cannot vouch for its view of the store right now.' };
    }
    const started = Date.now();
    try {
      await this.#withTimeout(this.store.get(this.keys.master.key));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        name,
        passed: false,
        message: `The ${this.store.profile.name} store did not answer a read: ${why}`,
      };
    }
    const quorum = this.store.profile.kind === 'distributed' ? ' with quorum (a linearizable read)' : '';
    return {
      name,
      passed: true,
      message: `The ${this.store.profile.name} store answered${quorum} in ${Date.now() - started} ms.`,
    };
  }

  #inFlightCheck(name: string): PreflightCheck {
    const check = 'no_run_in_flight';
    const uid = this.view.get(this.keys.activeAction(name))?.value;
    if (uid === undefined)
      return { name: check, passed: true, message: `No ${name} run is queued or in flight.` };
    const run = this.view.read(runKey(this.keys, uid));
    const state = run ? `${run.status}, ${run.progress}%` : 'state unknown';
    return {
      name: check,
      passed: false,
      message: `A ${name} run is already in flight: action_uid ${uid} (${state}).`,
    };
  }

  async #withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${QUORUM_READ_TIMEOUT_MS} ms`)),
        QUORUM_READ_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function permissionCheck(name: string, requester: PreflightRequester): PreflightCheck {
  const who = requester.name ?? 'the requester';
  return requester.mayStart
    ? { name: 'requester_permission', passed: true, message: `${who} (${requester.role}) may start ${name}.` }
    : {
        name: 'requester_permission',
        passed: false,
        message: `${who} (${requester.role}) lacks the start_cluster_action permission.`,
      };
}
