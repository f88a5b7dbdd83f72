/**
 * The action engine. It runs on the master only: while this node holds a master term, it claims
 * queued runs and executes their handlers, turns cancel requests into aborts, and ends truthfully
 * the runs an earlier master left unfinished. When the term ends, every handler is aborted and
 * nothing more is written (the fence would refuse it anyway).
 *
 * The engine never keeps state the store does not have: a new master rebuilds all it needs from the
 * `active/<name>` keys and the runs they point at.
 */
import type { Logger } from 'pino';

import type { ClusterKeys, TransferIntent } from '../cluster/keys.js';
import type { MasterRole, MasterTerm } from '../cluster/master.js';
import type { ClusterState } from '../cluster/state.js';
import type { ClusterView } from '../cluster/view.js';
import { MasterDeposed, NodeStopping, RunCancelled } from '../errors/abort-reasons.js';
import { NotMasterError } from '../errors/domain.js';
import { CoalescingTask } from '../lib/coalescing-task.js';
import type { Compare, Op, Store } from '../store/types.js';
import {
  ActionCancelled,
  ActionFailure,
  type ActionContext,
  type ClusterControl,
  type HandlerResult,
  type RunUpdate,
} from './handler.js';
import type { HandlerRegistry } from './registry.js';
import {
  claim,
  complete,
  fail,
  failToStart,
  finishCancel,
  moveToCompleted,
  withProgress,
  withUpdate,
  actionRunRecord,
  runKey,
  type ActionRun,
} from './run.js';
import { defaultRetention, Retention, type RetentionSettings } from './retention.js';
import { canMove } from './status.js';
import { RunWriter } from './run-writer.js';

export interface EngineSettings {
  /** How long the old master waits for the target to take over. (Default: 5000) */
  readonly handoverTimeoutMs: number;
  /** How many finished runs `/v1/actions` keeps, and for how long (retention.ts). */
  readonly retention: RetentionSettings;
}

export const defaultEngineSettings: EngineSettings = { handoverTimeoutMs: 5000, retention: defaultRetention };

interface InFlight {
  readonly controller: AbortController;
  readonly writer: RunWriter;
}

/** What the engine works with; the node builds it (node/node.ts). */
export interface EngineDeps {
  readonly store: Store;
  readonly view: ClusterView;
  readonly keys: ClusterKeys;
  readonly state: ClusterState;
  /** This node's master role: the engine works only while it holds a term, and writes fenced by it. */
  readonly master: MasterRole;
  readonly registry: HandlerRegistry;
  readonly settings: EngineSettings;
  readonly log: Logger;
}

export class ActionEngine {
  readonly #inFlight = new Map<string, InFlight>();
  /** Runs this term handed to another node: the new master finishes them, this one must not. */
  readonly #handedOff = new Set<string>();
  #term: MasterTerm | undefined;
  #pauses = 0;
  #stopped = false;
  // A macrotask, not a microtask: with the embedded store every call completes synchronously, and a
  // scan that re-runs in microtasks would starve the event loop (and the lease keep-alive) while the
  // view waits for its next poll.
  readonly #scan = new CoalescingTask(() => this.#scanOnce(), { defer: true });
  readonly #control: ClusterControl;
  readonly #retention: Retention;
  readonly #onViewChange = (events: readonly { kv: { key: string } }[]): void => {
    if (
      events.some(
        (e) => e.kv.key.startsWith(this.keys.activeActions) || e.kv.key.startsWith(this.keys.actions),
      )
    ) {
      this.#scheduleScan();
    }
  };

  private readonly store: Store;
  private readonly view: ClusterView;
  private readonly keys: ClusterKeys;
  private readonly state: ClusterState;
  private readonly master: MasterRole;
  private readonly registry: HandlerRegistry;
  private readonly settings: EngineSettings;
  private readonly log: Logger;

  constructor(deps: EngineDeps) {
    ({
      store: this.store,
      view: this.view,
      keys: this.keys,
      state: this.state,
      master: this.master,
      registry: this.registry,
      settings: this.settings,
      log: this.log,
    } = deps);
    const state = this.state;
    this.#retention = new Retention(
      this.view,
      this.keys,
      this.master,
      () => this.#term !== undefined,
      this.settings.retention,
      this.log.child({ component: 'retention' }),
    );
    this.#control = {
      selfUid: state.selfUid,
      master: () => state.master(),
      member: (uid) => state.member(uid),
      pauseNewWork: () => {
        this.#pauses++;
        let resumed = false;
        return () => {
          if (resumed) return;
          resumed = true;
          this.#pauses--;
          this.#scheduleScan();
        };
      },
      handOver: async (to, actionUid, options) => {
        // The run's own bookkeeping rides in the intent's transaction: no extra round trip.
        const writer = this.#inFlight.get(actionUid)?.writer;
        const record = options.record;
        const alongside = record && writer ? writer.prepare((r) => withUpdate(r, record)) : undefined;
        return {
          kind: await this.master.handOver.give(to, actionUid, { ...options, alongside }),
        };
      },
    };
  }

  start(): void {
    this.master.handOver.setTakeOverExtras((intent, since) => this.#completionAlongTakeOver(intent, since));
    this.master.on('elected', (term) => {
      this.#term = term;
      this.#handedOff.clear();
      this.#scheduleScan();
      this.#retention.prune();
    });
    this.master.on('deposed', (term, reason) => {
      if (this.#term !== term) return;
      this.#term = undefined;
      for (const { controller } of this.#inFlight.values()) controller.abort(new MasterDeposed(reason));
    });
    this.view.on('change', this.#onViewChange);
    this.#retention.start();
    if (this.master.term) {
      this.#term = this.master.term;
      this.#scheduleScan();
    }
  }

  /** Aborts running handlers; the runs stay unfinished for the next master to end. */
  stop(): void {
    this.#stopped = true;
    this.view.off('change', this.#onViewChange);
    this.#retention.stop();
    for (const { controller } of this.#inFlight.values()) controller.abort(new NodeStopping());
  }

  #scheduleScan(): void {
    if (!this.#stopped) this.#scan.request();
  }

  #scanOnce(): void {
    const term = this.#term;
    if (!term || this.#stopped) return;
    for (const activeKv of this.view.list(this.keys.activeActions)) {
      const uid = activeKv.value;
      const run = this.view.read(runKey(this.keys, uid));
      if (!run || this.#handedOff.has(uid)) continue;
      const inFlight = this.#inFlight.get(uid);
      if (inFlight) {
        if (run.status === 'cancelling' && !inFlight.controller.signal.aborted)
          inFlight.controller.abort(new RunCancelled());
        continue;
      }
      if (run.status === 'queued') {
        if (this.#pauses === 0) this.#track(uid, term, (flight) => this.#execute(run, term, flight));
      } else {
        this.#track(uid, term, (flight) => this.#recover(run, term, flight));
      }
    }
  }

  #track(uid: string, term: MasterTerm, work: (flight: InFlight) => Promise<void>): void {
    const flight: InFlight = {
      controller: new AbortController(),
      writer: new RunWriter(this.store, this.view, this.keys, this.master, term, uid),
    };
    this.#inFlight.set(uid, flight);
    work(flight)
      .catch((err: unknown) => {
        if (err instanceof NotMasterError) return;
        this.log.error({ err, action_uid: uid }, 'action engine failed to record a run');
      })
      // Rescan only once the view shows this run's last write; a scan of an older view would find the
      // run still in flight and pick it up again.
      .then(() => this.view.waitFor(flight.writer.lastRevision))
      .catch(() => undefined)
      .finally(() => {
        this.#inFlight.delete(uid);
        this.#scheduleScan();
        this.#retention.prune();
      });
  }

  async #execute(queued: ActionRun, term: MasterTerm, flight: InFlight): Promise<void> {
    const { writer, controller } = flight;
    const log = this.log.child({
      action_uid: queued.action_uid,
      action: queued.name,
      ...(queued.request_id !== undefined ? { request_id: queued.request_id } : {}),
    });
    const handler = this.registry.get(queued.name);
    if (!handler) {
      await writer.update((r) =>
        failToStart(r, this.state.selfUid, 'unsupported_action', `No handler for action ${r.name}.`),
      );
      return;
    }
    // queued → starting → running in one write: both moves are checked against the table, and the
    // claim costs one store round trip instead of two on the path every hand-over takes.
    const running = await writer.update((r) => claim(r, this.state.selfUid));
    if (!running) return;
    if (running.status === 'cancelling') controller.abort(new RunCancelled());
    log.info('action started');

    let pending: { pct: number; phase: string | undefined } | undefined;
    const ctx: ActionContext<unknown> = {
      run: running,
      params: running.params,
      signal: controller.signal,
      log,
      cluster: this.#control,
      settings: { handoverTimeoutMs: this.settings.handoverTimeoutMs },
      progress: async (pct, phase) => {
        pending = { pct: Math.max(pending?.pct ?? 0, pct), phase: phase ?? pending?.phase };
        await writer.update((r) => {
          if (!pending) return undefined;
          const p = pending;
          pending = undefined;
          return withProgress(r, p.pct, p.phase);
        });
      },
      update: async (fields: RunUpdate) => {
        await writer.update((r) => withUpdate(r, fields));
      },
    };
    let result: HandlerResult;
    try {
      result = await handler.run(ctx);
    } catch (err) {
      if (this.#term !== term || err instanceof NotMasterError) {
        log.warn('master term ended while the action ran; the next master will end the run');
        return;
      }
      await this.#fail(writer, err, log);
      return;
    }
    if (result.kind === 'handed_off') {
      this.#handedOff.add(queued.action_uid);
      log.info('action handed off to the new master');
      return;
    }
    await writer.update((r) => complete(r, result.outcome));
    log.info({ outcome: result.outcome }, 'action completed');
  }

  async #fail(writer: RunWriter, err: unknown, log: Logger): Promise<void> {
    if (err instanceof ActionCancelled) {
      await writer.update((r) => finishCancel(r, err.outcome));
      log.info('action cancelled');
      return;
    }
    const failure =
      err instanceof ActionFailure
        ? err
        : new ActionFailure(
            'internal_error',
            `Unexpected error: ${err instanceof Error ? err.message : String(err)}`,
          );
    if (!(err instanceof ActionFailure)) log.error({ err }, 'action handler threw an unexpected error');
    await writer.update((r) => fail(r, failure.code, failure.message, failure.outcome));
    log.info({ error_code: failure.code, error_message: failure.message }, 'action failed');
  }

  /**
   * The run a hand-over intent names, completed, as writes for the take-over's own transaction: the
   * new master confirms the hand-over in the same instant it takes the master key. Undefined when the
   * run is not as the intent left it; the engine then finishes it after the take-over, as ever.
   */
  async #completionAlongTakeOver(
    intent: TransferIntent,
    since: number,
  ): Promise<{ compare: Compare[]; ops: Op[] } | undefined> {
    const key = this.keys.action(intent.action_uid);
    const kv = this.view.get(key);
    const run = kv ? this.view.recordOf(kv, actionRunRecord) : undefined;
    if (!kv || !run || !canMove(run.status, 'completed')) return undefined;
    const handler = this.registry.get(run.name);
    if (!handler) return undefined;
    const result = await handler.recover({
      run,
      params: run.params,
      cluster: this.#control,
      term: {
        epoch: intent.epoch,
        since,
        viaAction: intent.action_uid,
        intentAt: intent.created_at,
        previous: { epoch: intent.epoch - 1, node_uid: intent.from },
      },
    });
    if (result.kind !== 'completed') return undefined;
    const compare: Compare[] = [{ key, target: 'mod', op: '=', value: kv.modRevision }];
    const ops: Op[] = [{ type: 'put', key, value: JSON.stringify(moveToCompleted(run, result.outcome)) }];
    const activeKey = this.keys.activeAction(run.name);
    if (this.view.get(activeKey)?.value === run.action_uid) {
      compare.push({ key: activeKey, target: 'value', op: '=', value: run.action_uid });
      ops.push({ type: 'delete', key: activeKey });
    }
    return { compare, ops };
  }

  /** Ends a run that an earlier master (or an earlier term of this node) left in flight. */
  async #recover(run: ActionRun, term: MasterTerm, flight: InFlight): Promise<void> {
    const log = this.log.child({
      action_uid: run.action_uid,
      action: run.name,
      ...(run.request_id !== undefined ? { request_id: run.request_id } : {}),
    });
    const handler = this.registry.get(run.name);
    const previous = run.node_uid !== undefined ? Number(run.node_uid) : undefined;
    if (run.status === 'starting') {
      await flight.writer.update((r) =>
        fail(
          r,
          'master_lost',
          `Master node ${previous ?? '?'} was lost while starting the action; it never ran.`,
        ),
      );
      return;
    }
    let result: HandlerResult;
    try {
      if (!handler) throw new ActionFailure('master_lost', `The master running ${run.name} was lost.`);
      result = await handler.recover({
        run,
        params: run.params,
        cluster: this.#control,
        term: {
          epoch: term.epoch,
          since: term.since,
          viaAction: term.viaAction,
          intentAt: term.intentAt,
          previous: term.previous,
        },
      });
    } catch (err) {
      await this.#fail(flight.writer, err, log);
      return;
    }
    if (result.kind === 'completed') {
      const done = await flight.writer.update((r) => complete(r, result.outcome));
      if (done) log.info({ outcome: result.outcome }, 'action completed by the new master');
    }
  }
}
