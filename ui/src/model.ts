/**
 * What the page knows about the cluster: loaded over REST once, then moved by the stream's events.
 * Views read it and re-render on `changed()`; nothing here touches the DOM.
 */

export interface Run {
  readonly action_uid: string;
  readonly name: string;
  readonly status: string;
  readonly progress: number;
  readonly creation_time: number;
  readonly node_uid?: string;
  readonly phase?: string;
  readonly cancellable?: boolean;
  readonly cancellable_reason?: string;
  readonly outcome?: Readonly<Record<string, unknown>>;
  readonly error_code?: string;
  readonly error_message?: string;
  readonly requester?: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly start_time?: string;
  readonly end_time?: string;
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** How far along a status is: a run only ever moves forward through these (src/actions/status.ts). */
const STATUS_RANK: Readonly<Record<string, number>> = {
  queued: 0,
  starting: 1,
  running: 2,
  cancelling: 3,
  completed: 4,
  failed: 4,
  cancelled: 4,
};

/** Whether `next` is the same state as `known` or later: copies can arrive out of order. */
function notOlder(known: Run, next: Run): boolean {
  const a = STATUS_RANK[known.status] ?? 0;
  const b = STATUS_RANK[next.status] ?? 0;
  return b > a || (b === a && next.progress >= known.progress);
}

export interface NodeRow {
  uid: number;
  addr: string;
  hostname: string;
  status: string;
  role: string;
  masterStatus: string | undefined;
  version: string;
  /** Uptime in seconds as of `uptimeAt` (unix ms). */
  uptime: number;
  uptimeAt: number;
  cores: number;
  totalMemory: number;
  httpPort: number;
  httpsPort: number;
  /** Share of CPU busy, 0–1, from the node's latest stats sample. */
  cpu: number | undefined;
  freeMemory: number | undefined;
}

export interface Master {
  uid: number | null;
  epoch: number | undefined;
  /** ISO time the holder took the role. */
  since: string | undefined;
  status: string;
}

export interface Notice {
  readonly at: number;
  readonly text: string;
}

export type LinkState = 'connecting' | 'live' | 'polling' | 'lost';

export class Model {
  clusterName = '';
  master: Master = { uid: null, epoch: undefined, since: undefined, status: 'none' };
  nodes = new Map<number, NodeRow>();
  runs = new Map<string, Run>();
  /** The run the user started or opened: the run panel follows it. */
  followed: string | undefined;
  /** The node this page talks to. */
  connectedUid: number | undefined;
  connectedOrigin = '';
  link: LinkState = 'connecting';
  linkMessage = '';
  /** The last time the page moved to another node, said in the banner until the next move. */
  lastSwitch = '';
  /** What happened, newest first (master moves, nodes lost, failovers). */
  notices: Notice[] = [];
  /** Bumped on every user change, so the users page reloads. */
  usersVersion = 0;
  #listeners = new Set<() => void>();
  #masterKnown = false;

  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  changed(): void {
    for (const fn of this.#listeners) fn();
  }

  notice(text: string): void {
    this.notices = [{ at: Date.now(), text }, ...this.notices].slice(0, 8);
  }

  /** Applies a master change: the badge moves to the holder when it acts as master. */
  setMaster(next: Master): void {
    const before = this.master;
    this.master = next;
    const acting = next.status === 'master' ? next.uid : null;
    for (const n of this.nodes.values()) {
      n.role = n.uid === acting ? 'master' : 'slave';
      n.masterStatus = n.uid === next.uid && next.status !== 'master' ? next.status : undefined;
    }
    // The first load is not a change.
    const first = !this.#masterKnown;
    this.#masterKnown = true;
    if (!first && (before.uid !== next.uid || before.status !== next.status)) {
      const who = next.uid === null ? 'no node' : `node ${next.uid}`;
      this.notice(`Master: ${who} (${next.status}, epoch ${next.epoch ?? '?'})`);
    }
  }

  /**
   * Records a run, unless an older copy: the POST's answer (queued) can arrive after the stream
   * already told the run completed, and must not take it back.
   */
  setRun(run: Run): void {
    const known = this.runs.get(run.action_uid);
    if (!known || notOlder(known, run)) this.runs.set(run.action_uid, run);
  }

  /** The run to show: the followed one, else the newest one not yet finished. */
  currentRun(): Run | undefined {
    if (this.followed) {
      const run = this.runs.get(this.followed);
      if (run) return run;
    }
    return [...this.runs.values()]
      .filter((r) => !TERMINAL.has(r.status))
      .sort((a, b) => b.creation_time - a.creation_time)[0];
  }
}
