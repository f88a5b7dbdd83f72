/**
 * The fault injector of a chaos run: one fault at a time, each followed by a wait until the cluster
 * has recovered (every responsive node answers a read and names one master), so each fault's
 * recovery can be measured on its own.
 *
 * - every store: kill -9 of a node or of the master and a restart; SIGSTOP/SIGCONT of either;
 * - etcd: kill -9 of one member, of the raft leader, of two members (quorum loss), each restarted;
 *   TCP-proxy partitions of the master, full or replies-only, right after it accepted a change_master.
 */
import type { EtcdCluster, EtcdMember } from '../../test/helpers/etcd-cluster.js';
import type { ClusterNode, ProcessCluster } from '../../test/helpers/process-cluster.js';
import type { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { pick, sleep } from '../lib/cluster.js';
import type { FaultKind, FaultWindow, Journal } from './journal.js';
import type { Workload } from './workload.js';

export interface FaultSettings {
  readonly cluster: ProcessCluster;
  readonly etcd: EtcdCluster | undefined;
  /** node uid -> one proxy per etcd member, in member order. */
  readonly proxies: Map<number, TcpProxy[]>;
  readonly journal: Journal;
  readonly workload: Workload;
  readonly kinds: readonly FaultKind[];
  readonly store: 'sqlite' | 'etcd';
}

export class FaultInjector {
  #running = true;
  #loop: Promise<void> | undefined;
  readonly counts = new Map<FaultKind, number>();

  constructor(private readonly s: FaultSettings) {}

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #run(): Promise<void> {
    await sleep(3000);
    while (this.#running) {
      const kind = pick(this.s.kinds);
      try {
        await this.#inject(kind);
      } catch (err) {
        console.error(`chaos: fault ${kind} could not be injected: ${(err as Error).message}`);
        await this.#healAll();
      }
      await sleep(1000 + Math.random() * 3000);
    }
  }

  async #inject(kind: FaultKind): Promise<void> {
    const { cluster, journal, workload } = this.s;
    const master = workload.lastMaster;
    const masterNode = master !== undefined ? cluster.node(master) : undefined;
    const open = (nodes: number[], storeFault: boolean): FaultWindow =>
      journal.openFault({ kind, nodes, storeFault, start: Date.now(), masterBefore: master });
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    let w: FaultWindow;
    switch (kind) {
      case 'node_kill':
      case 'master_kill': {
        const victim = kind === 'master_kill' && masterNode ? masterNode : pick(cluster.running());
        w = open([victim.uid], false);
        await victim.signal('SIGKILL');
        await sleep(500 + Math.random() * 2500);
        victim.start();
        w.end = Date.now();
        break;
      }
      case 'node_pause':
      case 'master_pause': {
        const victim = kind === 'master_pause' && masterNode ? masterNode : pick(cluster.responsive());
        // On SQLite a node frozen inside its write transaction holds the file's write lock, stalling
        // every node's writes (a known limit, docs/decisions.md): a store fault there.
        w = open([victim.uid], this.s.store === 'sqlite');
        await victim.signal('SIGSTOP', { anywhere: true });
        await sleep(500 + Math.random() * 4000);
        await victim.signal('SIGCONT');
        w.end = Date.now();
        break;
      }
      case 'member_kill':
      case 'leader_kill':
      case 'quorum_loss': {
        const etcd = this.s.etcd!;
        let victims: EtcdMember[];
        if (kind === 'leader_kill') victims = [await etcd.leader()];
        else if (kind === 'member_kill') victims = [pick(etcd.members)];
        else victims = [...etcd.members].sort(() => Math.random() - 0.5).slice(0, 2);
        w = open([], true);
        await Promise.all(victims.map((m) => m.kill('SIGKILL')));
        await sleep((kind === 'quorum_loss' ? 2000 : 1000) + Math.random() * 3000);
        await Promise.all(victims.map((m) => m.start()));
        w.end = Date.now();
        await etcd.waitHealthy(60_000);
        w.storeHealthyAt = Date.now();
        break;
      }
      case 'partition_full':
      case 'partition_replies': {
        // Aimed at the master right after it accepted a change_master: the intent is being written.
        const target = pick(cluster.nodes.filter((n) => n.uid !== master && n.running));
        const via = masterNode && masterNode.running && !masterNode.paused ? masterNode : undefined;
        const victimUid = master ?? pick(cluster.running()).uid;
        const proxies = this.s.proxies.get(victimUid)!;
        if (via) {
          const res = await workload.call<{ action_uid: string }>(
            via,
            'POST',
            '/v1/cluster/actions/change_master',
            'POST change_master',
            { node_uid: target.uid },
          );
          if (res.status === 200 && res.body) journal.acceptedRuns.set(res.body.action_uid, Date.now());
        }
        w = open([victimUid], true);
        const direction = kind === 'partition_full' ? 'both' : 'downstream';
        for (const p of proxies) p.pause(direction);
        await sleep(1500 + Math.random() * 5000);
        for (const p of proxies) {
          p.resume(direction);
          if (kind === 'partition_full' && Math.random() < 0.5) p.closeAll();
        }
        w.end = Date.now();
        break;
      }
    }
    await this.#awaitRecovery(w);
  }

  /** Waits until every responsive node answers a read (200) and all name one master. */
  async #awaitRecovery(w: FaultWindow): Promise<void> {
    const { cluster, workload } = this.s;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const nodes = cluster.responsive();
      const answers = await Promise.all(
        nodes.map((n: ClusterNode) =>
          workload
            .call<Record<string, { role: string }>>(
              n,
              'GET',
              '/v1/nodes/status',
              'GET recovery probe',
              undefined,
              2000,
            )
            .catch(() => undefined),
        ),
      );
      const masters = new Set<string>();
      let ok = answers.length === cluster.nodes.length;
      for (const a of answers) {
        if (!a || a.status !== 200 || !a.body) {
          ok = false;
          break;
        }
        const m = Object.entries(a.body).filter(([, s]) => s.role === 'master');
        if (m.length !== 1) ok = false;
        else masters.add(m[0]![0]);
      }
      if (ok && masters.size === 1) {
        w.recoveredAt = Date.now();
        w.masterAfter = Number([...masters][0]);
        return;
      }
      await sleep(50);
    }
    console.error(`chaos: no recovery within 90 s after ${w.kind}; healing everything`);
    await this.#healAll();
  }

  async #healAll(): Promise<void> {
    for (const list of this.s.proxies.values()) for (const p of list) p.resume('both');
    for (const n of this.s.cluster.nodes) {
      if (n.paused) await n.signal('SIGCONT');
      if (!n.running) n.start();
    }
    if (this.s.etcd) {
      for (const m of this.s.etcd.members) {
        if (m.paused) await m.resume();
        if (!m.running) await m.start();
      }
    }
  }

  async heal(): Promise<void> {
    await this.#healAll();
  }
}
