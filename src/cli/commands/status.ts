/** `bosun status`: the master, the nodes, and the action runs in flight or recently finished. */
import type { Command } from 'commander';

import { isTerminalStatus, type ActionRun, type NodeObject } from '../../client/index.js';
import { Cli } from '../context.js';
import { formatAgo, formatDuration, runDetail, statusStyle, table } from '../output.js';

/** Finished runs stay in `bosun status` this long. */
export const RECENT_SECONDS = 15 * 60;
const MAX_RUNS = 5;

export interface StatusNode extends NodeObject {
  readonly role: 'master' | 'slave' | 'unknown';
}

export interface StatusReport {
  readonly master_uid: number | null;
  /** With no master: the key holder that is handing over or fenced, and which. */
  readonly stepping_down?: { readonly uid: number; readonly why: 'handing_over' | 'fenced' } | undefined;
  readonly connected_node_uid: number | null;
  readonly nodes: StatusNode[];
  /** In flight, or finished within the last 15 minutes; newest last. */
  readonly actions: ActionRun[];
}

function finishedAt(run: ActionRun): number {
  const end = run.end_time ? Date.parse(run.end_time) / 1000 : NaN;
  return Number.isFinite(end) ? end : run.creation_time;
}

export function recentRuns(runs: readonly ActionRun[], nowMs = Date.now()): ActionRun[] {
  return runs
    .filter((r) => !isTerminalStatus(r.status) || nowMs / 1000 - finishedAt(r) <= RECENT_SECONDS)
    .sort((a, b) => a.creation_time - b.creation_time)
    .slice(-MAX_RUNS);
}

export async function collectStatus(cli: Cli): Promise<StatusReport> {
  const client = await cli.client();
  const [health, nodes, statuses, runs] = await Promise.all([
    client.masterHealthcheck(),
    client.nodes(),
    client.nodesStatus(),
    client.actions(),
  ]);
  const masterEntry = Object.entries(statuses).find(([, s]) => s.role === 'master');
  const masterUid = masterEntry ? Number(masterEntry[0]) : (health.master_uid ?? null);
  // Never call a node master that has stepped down: nodes/status names none then, and says why.
  const stepping = Object.entries(statuses).find(([, s]) => s.master_status !== undefined);
  return {
    master_uid: masterUid,
    stepping_down:
      masterUid === null && stepping
        ? { uid: Number(stepping[0]), why: stepping[1].master_status! }
        : undefined,
    connected_node_uid: health.node_uid ?? null,
    nodes: [...nodes]
      .sort((a, b) => a.uid - b.uid)
      .map((n) => ({ ...n, role: statuses[String(n.uid)]?.role ?? 'unknown' })),
    actions: recentRuns(runs),
  };
}

export function renderStatus(cli: Cli, report: StatusReport, nowMs = Date.now()): string {
  const s = cli.out;
  const lines: string[] = [];
  const master = report.nodes.find((n) => n.uid === report.master_uid);
  lines.push(
    report.master_uid === null
      ? report.stepping_down
        ? `Cluster master: ${s.yellow('none')} (node ${report.stepping_down.uid} ${report.stepping_down.why === 'handing_over' ? 'is handing the role over' : 'has stepped down (fenced)'})`
        : `Cluster master: ${s.yellow('none')} (no node holds the master role right now; an election may be in progress)`
      : `Cluster master: ${report.master_uid} (${master?.addr ?? 'unknown address'})`,
  );
  lines.push('', s.bold('CLUSTER NODES:'));
  lines.push(
    table(
      ['NODE:ID', 'ROLE', 'ADDRESS', 'STATUS', 'VERSION', 'UPTIME', 'HTTP/HTTPS'],
      report.nodes.map((n) => [
        `${n.uid === report.connected_node_uid ? '*' : ''}node:${n.uid}`,
        n.role === 'master' ? s.bold(n.role) : n.role,
        n.addr,
        statusStyle(s, n.status),
        n.software_version ?? '-',
        n.status === 'active' && typeof n.uptime === 'number' ? formatDuration(n.uptime) : '-',
        `${n.cnm_http_port ?? '-'}/${n.cnm_https_port ?? '-'}`,
      ]),
    ),
  );
  lines.push('');
  if (report.actions.length === 0) {
    lines.push(`${s.bold('ACTIONS:')} none in flight or finished in the last ${RECENT_SECONDS / 60} minutes`);
  } else {
    lines.push(s.bold('ACTIONS:'));
    lines.push(runsTable(cli, report.actions, nowMs));
  }
  return lines.join('\n');
}

/** The runs table shared by `status` and `actions list`. */
export function runsTable(cli: Cli, runs: readonly ActionRun[], nowMs = Date.now()): string {
  const s = cli.out;
  return table(
    ['ACTION_UID', 'NAME', 'STATUS', 'PROGRESS', 'PHASE', 'CREATED', 'DETAIL'],
    runs.map((r) => [
      r.action_uid,
      r.name,
      statusStyle(s, r.status),
      `${Math.round(r.progress)}%`,
      r.phase ?? '-',
      formatAgo(r.creation_time, nowMs),
      runDetail(r),
    ]),
    { rightAlign: [3] },
  );
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the cluster master, the nodes, and action runs in flight or recently finished.')
    .addHelpText(
      'after',
      `
The node you are connected to (--url) is marked with "*", as in rladmin status.

Examples:
  bosun status
  bosun status --url https://10.0.0.5:9443 --pin-sha256 AB:CD:...:EF
  bosun status -o json | jq .master_uid`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const cli = Cli.of(cmd);
      const report = await collectStatus(cli);
      if (cli.json) cli.printJson(report);
      else cli.print(renderStatus(cli, report));
    });
}
