/**
 * The traffic a chaos run keeps up while faults land: `change_master` runs (some cancelled or
 * removed with DELETE), reads of runs and node status, user churn, and a master_healthcheck poll of
 * every node. Every answer goes into the journal; nothing here judges it (checker.ts does).
 */
import type { ProcessCluster, ClusterNode } from '../../test/helpers/process-cluster.js';
import { HttpClient } from '../lib/http.js';
import { pick, sleep } from '../lib/cluster.js';
import type { Journal } from './journal.js';

interface ErrorBody {
  readonly error_code?: string;
}

export class Workload {
  readonly http = new HttpClient();
  #running = true;
  #loops: Promise<void>[] = [];
  #userSeq = 0;
  /** The last master an agreed healthcheck round named (faults aim at it). */
  lastMaster: number | undefined;

  constructor(
    private readonly cluster: ProcessCluster,
    private readonly journal: Journal,
  ) {}

  start(): void {
    this.#loops = [
      this.#healthLoop(),
      this.#changeMasterLoop(),
      this.#readLoop(),
      this.#userLoop(),
      this.#stallLoop(),
    ];
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** One request, recorded; status 0 when the node did not answer (killed, paused, timed out). */
  async call<T>(
    node: ClusterNode,
    method: string,
    path: string,
    what: string,
    body?: unknown,
    timeoutMs = 5000,
  ): Promise<{ status: number; body: T | undefined; sentAt: number }> {
    const sentAt = Date.now();
    this.journal.requests++;
    try {
      const res = await this.http.request<T>(method, node.url + path, body, timeoutMs);
      this.journal.answers.push({
        node: node.uid,
        what,
        sentAt,
        receivedAt: Date.now(),
        status: res.status,
        errorCode: res.status >= 400 ? (res.body as ErrorBody | undefined)?.error_code : undefined,
      });
      return { status: res.status, body: res.body, sentAt };
    } catch {
      return { status: 0, body: undefined, sentAt };
    }
  }

  /** Reads a run; a 404 for a run accepted over a second before the request is a stale read. */
  async getRun(
    node: ClusterNode,
    uid: string,
  ): Promise<{ status: number; body: { status: string } | undefined }> {
    const res = await this.call<{ status: string }>(node, 'GET', `/v1/actions/${uid}`, 'GET run');
    const acceptedAt = this.journal.acceptedRuns.get(uid);
    if (res.status === 404 && acceptedAt !== undefined && res.sentAt - acceptedAt > 1000) {
      this.journal.stale404.push({ at: res.sentAt, node: node.uid, uid, ageMs: res.sentAt - acceptedAt });
    }
    return res;
  }

  #responsive(): ClusterNode[] {
    return this.cluster.responsive();
  }

  async #healthLoop(): Promise<void> {
    while (this.#running) {
      const nodes = this.#responsive();
      const round = await Promise.all(
        nodes.map(async (n) => {
          const sentAt = Date.now();
          try {
            const res = await this.http.get<{
              is_master: boolean;
              master_status?: string;
              master_uid?: number;
              master_since?: number;
              checked_at?: number;
              store_reachable: boolean;
            }>(`${n.url}/v1/local/node/master_healthcheck`, 2000);
            if (res.status !== 200) return undefined;
            return {
              node: n.uid,
              sentAt,
              receivedAt: Date.now(),
              isMaster: res.body.is_master,
              masterStatus: res.body.master_status,
              storeReachable: res.body.store_reachable,
              masterUid: res.body.master_uid,
              masterSince: res.body.master_since,
              checkedAt: res.body.checked_at,
            };
          } catch {
            return undefined;
          }
        }),
      );
      const samples = round.filter((s) => s !== undefined);
      for (const s of samples) this.journal.samples.push(s);
      this.journal.rounds.push(samples);
      const masters = samples.filter((s) => s.isMaster);
      if (masters.length === 1 && samples.every((s) => s.masterUid === masters[0]!.node))
        this.lastMaster = masters[0]!.node;
      await sleep(50);
    }
  }

  async #changeMasterLoop(): Promise<void> {
    while (this.#running) {
      const nodes = this.#responsive();
      if (nodes.length < 2) {
        await sleep(200);
        continue;
      }
      const via = pick(nodes);
      const target = pick(this.cluster.nodes.filter((n) => n.uid !== this.lastMaster));
      const res = await this.call<{ action_uid: string }>(
        via,
        'POST',
        '/v1/cluster/actions/change_master',
        'POST change_master',
        { node_uid: target.uid },
      );
      if (res.status === 200 && res.body) {
        this.journal.acceptedRuns.set(res.body.action_uid, Date.now());
        if (Math.random() < 0.15) {
          // A cancel racing the run, or removal of its status once finished: both legal.
          await sleep(Math.random() * 50);
          await this.call(pick(this.#responsive()), 'DELETE', '/v1/cluster/actions/change_master', 'DELETE');
        }
        await this.#awaitRun(res.body.action_uid);
        if (Math.random() < 0.3 && this.#running) {
          await this.call(pick(this.#responsive()), 'DELETE', '/v1/cluster/actions/change_master', 'DELETE');
        }
      }
      await sleep(150 + Math.random() * 300);
    }
  }

  async #awaitRun(uid: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (this.#running && Date.now() < deadline) {
      const nodes = this.#responsive();
      if (nodes.length === 0) return;
      const res = await this.getRun(pick(nodes), uid);
      if (res.status === 200 && ['completed', 'failed', 'cancelled'].includes(res.body!.status)) return;
      await sleep(100);
    }
  }

  async #readLoop(): Promise<void> {
    while (this.#running) {
      const nodes = this.#responsive();
      if (nodes.length > 0) {
        const n = pick(nodes);
        const runs = [...this.journal.acceptedRuns.keys()];
        if (runs.length > 0 && Math.random() < 0.6) {
          // Recent runs most: a stale view misses those first.
          const uid = runs[Math.max(0, runs.length - 1 - Math.floor(Math.random() * 5))]!;
          await this.getRun(n, uid);
        } else {
          await this.call(n, 'GET', pick(['/v1/nodes/status', '/v1/cluster/actions', '/v1/nodes']), 'GET');
        }
      }
      await sleep(40);
    }
  }

  async #userLoop(): Promise<void> {
    const created: { email: string; uid: number }[] = [];
    while (this.#running) {
      const nodes = this.#responsive();
      if (nodes.length > 0) {
        if (created.length > 5 && Math.random() < 0.4) {
          const victim = created.splice(Math.floor(Math.random() * created.length), 1)[0]!;
          const res = await this.call(pick(nodes), 'DELETE', `/v1/users/${victim.uid}`, 'DELETE user');
          const entry = this.journal.users.get(victim.email)!;
          entry.calls.push(`DELETE ${res.status}`);
          if (res.status === 200) {
            entry.state = 'deleted';
            entry.at = Date.now();
          } else if (res.status !== 404) {
            // No answer or a 5xx: the delete's outcome is unknown. Try again later.
            if (res.status === 0 || res.status >= 500) entry.deleteMayHaveApplied = true;
            created.push(victim);
          }
        } else {
          const email = `chaos-${process.pid}-${++this.#userSeq}@example.com`;
          const res = await this.call<{ uid: number }>(pick(nodes), 'POST', '/v1/users', 'POST user', {
            email,
            password: 'Chaos-pass-1',
            role: 'db_viewer',
          });
          if (res.status === 200 && res.body) {
            this.journal.users.set(email, {
              uid: res.body.uid,
              state: 'created',
              at: Date.now(),
              calls: ['POST 200'],
              deleteMayHaveApplied: false,
            });
            created.push({ email, uid: res.body.uid });
          }
        }
      }
      await sleep(300 + Math.random() * 400);
    }
  }

  /** Measures this process's own event-loop lateness: observations near a stall are unreliable. */
  async #stallLoop(): Promise<void> {
    while (this.#running) {
      const t0 = Date.now();
      await sleep(20);
      const late = Date.now() - t0 - 20;
      if (late > 150) this.journal.stalls.push({ at: Date.now(), lateMs: late });
    }
  }
}
