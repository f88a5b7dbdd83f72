/**
 * A signed-in session: the token (in memory, and in this tab's sessionStorage so a reload keeps it;
 * signing out forgets both), the node the page talks to, the REST loads and the event stream that
 * keeps the model current (docs/decisions.md, "Dashboard").
 *
 * Resilience: when the stream breaks or a request finds the node gone, the page says so at once,
 * asks the same node again, then the other nodes (their addresses from /v1/nodes), and carries on
 * with the first that answers; the stream resumes there from the last event id it applied.
 */
import { Api, ApiError, Unreachable, describeError, type Whoami } from './api.js';
import { Model, type NodeRow, type Run } from './model.js';
import { EventStream, type StreamEventType } from './stream.js';
import { applyCluster, applyNodes, applyStats, applyStatus, type StatsEntry } from './loaders.js';

const TOKEN_KEY = 'bosun.token';
const STATS_EVERY_MS = 5000;
const POLL_EVERY_MS = 2000;
const RETRY_STREAM_EVERY_MS = 30_000;
/**
 * A snapshot behind the stream is loaded again this often, this many times at most. Past that (about
 * 3 s, as long as a node waits for its view before it answers a resumed stream with `reset`) it is
 * applied: a node whose view stays that far behind sends `reset`, which loads everything again.
 */
const STALE_RELOAD_MS = 100;
const STALE_LOADS = 30;

/** The oldest of the answers' revisions; undefined when any answer had none (an older node). */
function oldest(revisions: readonly (number | undefined)[]): number | undefined {
  let min: number | undefined;
  for (const r of revisions) {
    if (r === undefined) return undefined;
    min = min === undefined ? r : Math.min(min, r);
  }
  return min;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Session {
  readonly model = new Model();
  readonly api: Api;
  me: Whoami | undefined;
  readonly #stream: EventStream;
  #timers: ReturnType<typeof setInterval>[] = [];
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #recovering = false;
  #recoverAgain = false;
  #ended = false;
  /** Called when the server refuses the token (expired, user deleted): back to sign-in. */
  onSignedOut: (why: string) => void = () => undefined;

  constructor(origin: string) {
    this.api = new Api(origin);
    this.model.connectedOrigin = origin;
    this.#stream = new EventStream({
      event: (type, data, id) => this.#onEvent(type, data, id),
      broken: (opened) => void this.#onBroken(opened),
    });
  }

  static stored(): string | undefined {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  }

  can(permission: string): boolean {
    return this.me?.permissions.includes(permission) ?? false;
  }

  async signIn(login: string, password: string): Promise<void> {
    await this.start(await this.api.authorize(login, password));
  }

  async start(token: string): Promise<void> {
    this.api.token = token;
    this.me = await this.api.get<Whoami>('/v1/whoami');
    sessionStorage.setItem(TOKEN_KEY, token);
    // The state loads after the stream's hello (#onEvent), so no change falls between the two.
    this.#stream.open(this.api.origin, token);
    this.#timers.push(setInterval(() => void this.guard(() => this.loadStats()), STATS_EVERY_MS));
  }

  signOut(): void {
    this.#ended = true;
    this.#stream.close();
    for (const t of this.#timers) clearInterval(t);
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.api.token = undefined;
    this.me = undefined;
    sessionStorage.removeItem(TOKEN_KEY);
  }

  /** Runs a REST call; a node that does not answer starts the failover, a refused token signs out. */
  async guard<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Unreachable) void this.#recover();
      else if (err instanceof ApiError && err.status === 401) this.#expired(err);
      else throw err;
      return undefined;
    }
  }

  /**
   * Loads the whole state over REST. A snapshot older than an event the page has already applied is
   * loaded again, not applied: applied, it would take the state back (a node shown up, a master that
   * has moved on), and no later event would correct it. That happens when an event arrives while the
   * answers are on their way, and after a switch to a node whose view is behind the one the events
   * came from (docs/decisions.md, "Dashboard snapshots and the stream").
   */
  async loadAll(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const [cluster, nodes, status, actions] = await Promise.all([
        this.api.read<Record<string, unknown>>('/v1/cluster'),
        this.api.read<Record<string, unknown>[]>('/v1/nodes'),
        this.api.read<Record<string, Record<string, unknown>>>('/v1/nodes/status'),
        this.api.read<{ actions: Run[] }>('/v1/cluster/actions'),
      ]);
      const revision = oldest([cluster.revision, nodes.revision, status.revision]);
      const applied = this.#stream.lastEventId === undefined ? undefined : Number(this.#stream.lastEventId);
      if (revision !== undefined && applied !== undefined && revision < applied && attempt < STALE_LOADS) {
        await sleep(STALE_RELOAD_MS);
        continue;
      }
      const m = this.model;
      applyCluster(m, cluster.body);
      applyNodes(m, nodes.body);
      applyStatus(m, status.body);
      // Runs need no revision: setRun never takes a run back to an older copy.
      for (const run of actions.body.actions) m.setRun(run);
      break;
    }
    await this.loadStats();
    this.model.changed();
  }

  async loadStats(): Promise<void> {
    applyStats(this.model, await this.api.get<StatsEntry[]>('/v1/nodes/stats'));
    this.model.changed();
  }

  /** Follows a run in the run panel (the stream, or the poll without one, keeps it current). */
  follow(run: Run): void {
    this.model.setRun(run);
    this.model.followed = run.action_uid;
    this.model.changed();
  }

  #onEvent(type: StreamEventType, data: unknown, _id: string | undefined): void {
    const m = this.model;
    const d = data as Record<string, unknown>;
    switch (type) {
      case 'hello':
        m.connectedUid = Number(d.node_uid);
        m.link = 'live';
        m.linkMessage = '';
        this.#stopPolling();
        if (this.#stream.lastEventId === undefined) {
          // A first connection: state is loaded after hello, and later events apply on top.
          this.#stream.lastEventId = String(d.revision);
          void this.guard(() => this.loadAll());
        }
        break;
      case 'reset':
        this.#stream.lastEventId = String(d.revision);
        void this.guard(() => this.loadAll());
        break;
      case 'action':
        m.setRun(d as unknown as Run);
        break;
      case 'master':
        m.setMaster({
          uid: typeof d.node_uid === 'number' ? d.node_uid : null,
          epoch: typeof d.epoch === 'number' ? d.epoch : undefined,
          since: typeof d.since === 'string' ? d.since : undefined,
          status: typeof d.master_status === 'string' ? d.master_status : 'none',
        });
        break;
      case 'node':
        this.#onNode(d);
        break;
      case 'user':
        m.usersVersion++;
        break;
    }
    m.changed();
  }

  #onNode(d: Record<string, unknown>): void {
    const uid = Number(d.uid);
    const row: NodeRow | undefined = this.model.nodes.get(uid);
    if (!row) {
      void this.guard(() => this.loadAll());
      return;
    }
    const status = String(d.status);
    if (row.status !== status) this.model.notice(`Node ${uid} is ${status === 'active' ? 'up' : 'down'}`);
    row.status = status;
    if (status === 'active') void this.guard(() => this.loadAll());
  }

  async #onBroken(opened: boolean): Promise<void> {
    if (this.#ended) return;
    if (!opened && (await this.#answers(this.api.origin))) {
      // The node is up but serves no stream (an older version): refresh over REST instead.
      this.#startPolling();
      return;
    }
    await this.#recover();
  }

  #startPolling(): void {
    const m = this.model;
    m.link = 'polling';
    m.linkMessage = 'This node serves no event stream; refreshing every 2 s.';
    m.changed();
    if (this.#pollTimer) return;
    void this.guard(() => this.loadAll());
    let sinceRetry = 0;
    this.#pollTimer = setInterval(() => {
      sinceRetry += POLL_EVERY_MS;
      if (sinceRetry >= RETRY_STREAM_EVERY_MS && this.api.token) {
        sinceRetry = 0;
        this.#stream.open(this.api.origin, this.api.token);
      }
      void this.guard(() => this.loadAll());
    }, POLL_EVERY_MS);
  }

  #stopPolling(): void {
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /** Whether a node answers at all (any HTTP answer but "stopping" counts). */
  async #answers(origin: string): Promise<boolean> {
    try {
      await this.api.call('GET', '/v1/local/node/master_healthcheck', undefined, origin);
      return true;
    } catch (err) {
      return err instanceof ApiError && err.code !== 'node_stopping';
    }
  }

  /** The other nodes' origins, in uid order, over this page's scheme. */
  #candidates(): { uid: number; origin: string }[] {
    const https = location.protocol === 'https:';
    return [...this.model.nodes.values()]
      .sort((a, b) => a.uid - b.uid)
      .map((n) => ({
        uid: n.uid,
        origin: `${location.protocol}//${n.addr}:${https ? n.httpsPort : n.httpPort}`,
      }))
      .filter((c) => c.origin !== this.api.origin);
  }

  /**
   * Finds a node that answers and reopens the stream there. A failure while that is under way (the
   * new stream breaks, a load finds the new node gone) runs it once more when it is done, rather
   * than being dropped and leaving the page without a stream.
   */
  async #recover(): Promise<void> {
    if (this.#ended) return;
    if (this.#recovering) {
      this.#recoverAgain = true;
      return;
    }
    this.#recovering = true;
    try {
      do {
        this.#recoverAgain = false;
        await this.#reconnect();
      } while (this.#recoverAgain && !this.#ended);
    } finally {
      this.#recovering = false;
    }
  }

  async #reconnect(): Promise<void> {
    const m = this.model;
    this.#stream.close();
    const lost = m.connectedUid;
    m.link = 'lost';
    m.linkMessage = `Lost the connection to node ${lost ?? '?'} (${this.api.origin}) at ${new Date().toLocaleTimeString()}; looking for a node that answers…`;
    m.changed();
    while (!this.#ended) {
      if (await this.#answers(this.api.origin)) break;
      const next = await this.#firstAnswering(this.#candidates());
      if (next) {
        this.api.origin = next.origin;
        m.connectedOrigin = next.origin;
        m.connectedUid = next.uid;
        const text = `Node ${lost ?? '?'} stopped answering; switched to node ${next.uid} (${next.origin})`;
        m.notice(text);
        m.lastSwitch = `${text} at ${new Date().toLocaleTimeString()}.`;
        break;
      }
      await sleep(1000);
    }
    if (this.#ended || !this.api.token) return;
    this.#stream.open(this.api.origin, this.api.token);
    await this.guard(() => this.loadAll());
  }

  async #firstAnswering(
    candidates: { uid: number; origin: string }[],
  ): Promise<{ uid: number; origin: string } | undefined> {
    for (const c of candidates) if (await this.#answers(c.origin)) return c;
    return undefined;
  }

  #expired(err: ApiError): void {
    this.signOut();
    this.onSignedOut(`Signed out: ${describeError(err)}`);
  }
}
