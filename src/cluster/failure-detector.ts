/**
 * The fast failover's failure detector: every node but the master watches the master, and replaces
 * it before its lease runs out only when the master's process is certainly gone (docs/decisions.md,
 * "Fast failover"). Everything else, a slow, paused or unreachable master included, is waited out for
 * its lease, as before.
 *
 * Two signals, and only these, may trigger a take-over:
 * - `process_gone` (certain, one observer suffices): the master runs on this node's host (same
 *   `host_id`, see process-identity.ts) and its process, identified by pid and start time, which this
 *   observer saw before, no longer exists or is a zombie. A stopped (SIGSTOP) process exists, so it
 *   never triggers.
 * - `port_refused` (confirmed by a majority): the master's advertised HTTP port refuses connections
 *   (no listener: the kernel answers a connect with a reset), on every probe for a while, after this
 *   observer had connected to that same master before. Each observer that sees this writes a
 *   suspicion under its own lease; once a majority of the live nodes suspect the same master token,
 *   any of them takes over, with the suspicions' revisions as compares in the take-over transaction.
 *   A paused process still completes connects (the kernel accepts on its behalf), and a partition or
 *   a dead host gives timeouts; a timeout is never evidence.
 *
 * The take-over itself is MasterRole.forceTakeOver: one transaction guarded by the dead master's
 * token, so two nodes acting at once yield exactly one master, and a wrong judgement still cannot let
 * the old master write (every master write is fenced by the token of its term).
 */
import { connect } from 'node:net';

import type { Logger } from 'pino';

import { putRecord } from '../store/typed-key.js';
import type { Compare, KeyValue, Store } from '../store/types.js';
import type { ClusterKeys, DeathSignal, MasterRecord, NodeRecord, SuspicionRecord } from './keys.js';
import type { MasterRole } from './master.js';
import type { Membership } from './membership.js';
import { hostId, processState } from './process-identity.js';
import type { ClusterView } from './view.js';

/**
 * - `on`: both signals (the default);
 * - `port`: only the majority-confirmed refused port, as between hosts (benchmarks and tests use it
 *   to measure that path on one machine);
 * - `off`: wait for the lease, always.
 */
export type FastFailoverMode = 'on' | 'port' | 'off';

export const fastFailoverModes: readonly FastFailoverMode[] = ['on', 'port', 'off'];

export interface FailureDetectorSettings {
  readonly mode: FastFailoverMode;
  /** How often the master is probed. */
  readonly probeIntervalMs: number;
  /** Consecutive refused connects before this node suspects the master... */
  readonly refusalsToSuspect: number;
  /** ...spanning at least this long, so one stray reset is never enough. */
  readonly refusalWindowMs: number;
  /** A connect that takes longer is abandoned: no evidence either way. */
  readonly connectTimeoutMs: number;
}

export const defaultFailureDetectorSettings: FailureDetectorSettings = {
  mode: 'on',
  probeIntervalMs: 100,
  refusalsToSuspect: 3,
  refusalWindowMs: 300,
  connectTimeoutMs: 1000,
};

type ProbeResult = 'open' | 'refused' | 'no_answer';

/** One TCP connect to the master's advertised port, closed at once. */
function probePort(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('no_answer'), timeoutMs);
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : 'no_answer'),
    );
  });
}

/** What this node has seen of one master incarnation (one fencing token). */
interface Watched {
  readonly token: number;
  readonly masterUid: number;
  /** This node connected to the master's port at least once: a later refusal is a change. */
  seenOpen: boolean;
  /**
   * This node saw the master's process in /proc at least once: a later absence is a change. Where
   * /proc hides other processes (systemd's ProtectProc=invisible, a hidepid mount), it never sees it,
   * so an absence that was always there is never taken for a death.
   */
  seenProcess: boolean;
  refusals: number;
  refusedSince: number | undefined;
  /** This node's suspicion is written for this token. */
  suspected: boolean;
}

export class FailureDetector {
  readonly #hostId = hostId();
  #timer: NodeJS.Timeout | undefined;
  #watched: Watched | undefined;
  #probing = false;
  #acting = false;
  #stopped = false;
  /** Master changes this detector caused (for logs and tests). */
  takeOvers = 0;
  readonly #onChange = (events: readonly { kv: KeyValue }[]): void => {
    if (
      events.some(
        (e) =>
          e.kv.key.startsWith(this.keys.suspicions.prefix) || e.kv.key.startsWith(this.keys.nodes.prefix),
      )
    )
      this.#checkMajority();
  };

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    private readonly keys: ClusterKeys,
    private readonly membership: Membership,
    private readonly master: MasterRole,
    private readonly settings: FailureDetectorSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.settings.mode === 'off') return;
    this.#timer = setInterval(() => this.#tick(), this.settings.probeIntervalMs);
    this.#timer.unref();
    this.view.on('change', this.#onChange);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.view.off('change', this.#onChange);
  }

  /** The master to watch, when it is another node whose liveness record is of the same incarnation. */
  #target(): { masterKv: KeyValue; master: MasterRecord; node: NodeRecord } | undefined {
    if (!this.view.synced || this.master.isMaster) return undefined;
    const masterKv = this.view.get(this.keys.master.key);
    if (!masterKv) return undefined;
    const master = this.view.read(this.keys.master)!;
    if (master.node_uid === this.membership.uid) return undefined;
    const nodeKv = this.view.get(this.keys.node(master.node_uid).key);
    // The record must be the master's own incarnation (the same lease), or its pid and port say
    // nothing about the process that holds the master key.
    if (!nodeKv || nodeKv.lease === undefined || nodeKv.lease !== masterKv.lease) return undefined;
    return { masterKv, master, node: this.view.read(this.keys.node(master.node_uid))! };
  }

  #tick(): void {
    if (this.#stopped || this.#acting) return;
    const target = this.#target();
    if (!target || !this.membership.lease) {
      this.#forget();
      return;
    }
    const token = target.masterKv.modRevision;
    if (this.#watched?.token !== token) {
      this.#forget();
      this.#watched = {
        token,
        masterUid: target.master.node_uid,
        seenOpen: false,
        seenProcess: false,
        refusals: 0,
        refusedSince: undefined,
        suspected: false,
      };
    }
    const watched = this.#watched;
    const { node } = target;
    if (
      this.settings.mode === 'on' &&
      this.#hostId !== undefined &&
      node.host_id === this.#hostId &&
      node.proc_start !== undefined
    ) {
      const state = processState(node.pid, node.proc_start);
      if (state === 'gone' && watched.seenProcess) {
        this.#takeOver(watched, 'process_gone', []);
        return;
      }
      // Alive on this host (running or stopped): a refused port is not death; wait for the lease.
      if (state === 'alive') {
        watched.seenProcess = true;
        this.#clearRefusals(watched);
        return;
      }
      // Never seen, or /proc could not answer: the port decides, with a majority.
    }
    if (this.#probing) return;
    this.#probing = true;
    void probePort(node.addr, node.http_port, this.settings.connectTimeoutMs).then((result) => {
      this.#probing = false;
      if (this.#watched === watched && !this.#stopped) this.#onProbe(watched, result);
    });
  }

  #onProbe(watched: Watched, result: ProbeResult): void {
    if (result === 'open') {
      watched.seenOpen = true;
      this.#clearRefusals(watched);
      return;
    }
    if (result === 'no_answer' || !watched.seenOpen) {
      // A timeout or an unreachable network is silence, not death: the lease decides.
      this.#clearRefusals(watched);
      return;
    }
    const now = Date.now();
    watched.refusals++;
    watched.refusedSince ??= now;
    if (
      watched.refusals >= this.settings.refusalsToSuspect &&
      now - watched.refusedSince >= this.settings.refusalWindowMs
    ) {
      void this.#suspect(watched);
    }
  }

  #clearRefusals(watched: Watched): void {
    watched.refusals = 0;
    watched.refusedSince = undefined;
    if (watched.suspected) void this.#withdraw(watched);
  }

  /** Writes this node's suspicion of the master, only while that master still holds its token. */
  async #suspect(watched: Watched): Promise<void> {
    const lease = this.membership.lease;
    if (watched.suspected || !lease) return this.#checkMajority();
    watched.suspected = true;
    const record: SuspicionRecord = {
      master_uid: watched.masterUid,
      master_token: watched.token,
      since: watched.refusedSince ?? Date.now(),
    };
    try {
      const { succeeded } = await this.store.txn({
        compare: [{ key: this.keys.master.key, target: 'mod', op: '=', value: watched.token }],
        success: [putRecord(this.keys.suspicion(this.membership.uid), record, lease.id)],
      });
      if (!succeeded) return;
      this.log.warn(
        { master: watched.masterUid, token: watched.token, refusals: watched.refusals },
        `master ${watched.masterUid} refuses connections; suspecting it dead`,
      );
    } catch (err) {
      watched.suspected = false;
      this.log.warn({ err }, 'could not record a suspicion of the master');
    }
    this.#checkMajority();
  }

  async #withdraw(watched: Watched): Promise<void> {
    watched.suspected = false;
    await this.store
      .txn({ compare: [], success: [{ type: 'delete', key: this.keys.suspicion(this.membership.uid).key }] })
      .catch((err: unknown) => this.log.warn({ err }, 'could not withdraw a suspicion'));
  }

  /** Stops watching the previous master; withdraws this node's suspicion of it. */
  #forget(): void {
    const watched = this.#watched;
    this.#watched = undefined;
    if (watched?.suspected) void this.#withdraw(watched);
  }

  /** Takes over once a majority of the live nodes (the suspected master counted) suspect the master. */
  #checkMajority(): void {
    const watched = this.#watched;
    if (!watched?.suspected || this.#acting || this.#stopped) return;
    const live = new Set(
      this.view.list(this.keys.nodes.prefix).map((kv) => Number(kv.key.slice(this.keys.nodes.prefix.length))),
    );
    const votes = this.view.list(this.keys.suspicions.prefix).filter((kv) => {
      const uid = Number(kv.key.slice(this.keys.suspicions.prefix.length));
      const s = this.view.recordOf(kv, this.keys.suspicions.type);
      return s?.master_token === watched.token && uid !== watched.masterUid && live.has(uid);
    });
    if (votes.length < Math.floor(live.size / 2) + 1) return;
    this.#takeOver(
      watched,
      'port_refused',
      votes.map((kv) => ({ key: kv.key, target: 'mod', op: '=', value: kv.modRevision })),
    );
  }

  #takeOver(watched: Watched, signal: DeathSignal, evidence: Compare[]): void {
    if (this.#acting) return;
    this.#acting = true;
    this.master
      .forceTakeOver(watched.token, { signal, from_token: watched.token }, evidence)
      .then(
        (won) => {
          if (won) this.takeOvers++;
        },
        (err: unknown) => this.log.warn({ err, signal }, 'forced take-over failed; will retry'),
      )
      .finally(() => {
        this.#acting = false;
      });
  }
}
