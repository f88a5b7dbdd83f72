/** `bosun actions list | get | start | cancel`: cluster action runs. */
import { InvalidArgumentError, type Command } from 'commander';

import { isTerminalStatus, type ActionRun } from '../../client/index.js';
import { Cli, CliError, ExitCode } from '../context.js';
import { formatParams, runDetail, statusStyle } from '../output.js';
import { followRun, reportRunEnd, reportStarted } from '../wait.js';
import { runDryRun } from '../preflight.js';
import { runsTable } from './status.js';

interface ListOptions {
  name?: string;
  status?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
  newestFirst?: boolean;
}

interface StartCommandOptions {
  arg: Record<string, unknown>;
  wait: boolean;
  dryRun?: boolean;
  idempotencyKey?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `k=v`; the value is JSON when it parses as JSON (`2`, `true`, `"x"`, `[1]`), else a string. */
export function parseArg(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${value}'`);
  const key = value.slice(0, eq);
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a plain string
  }
  return { ...previous, [key]: parsed };
}

/** The key/value view of one run. */
export function renderRun(cli: Cli, run: ActionRun): string {
  const s = cli.out;
  const rows: [string, string | undefined][] = [
    ['action_uid', run.action_uid],
    ['name', run.name],
    ['status', statusStyle(s, run.status)],
    ['progress', `${Math.round(run.progress)}%`],
    ['phase', run.phase],
    ['node_uid', run.node_uid],
    ['requester', run.requester],
    ['params', run.params && Object.keys(run.params).length > 0 ? formatParams(run.params) : undefined],
    ['created', new Date(run.creation_time * 1000).toISOString()],
    ['started', run.start_time],
    ['ended', run.end_time],
    ['cancellable', run.cancellable === undefined ? undefined : String(run.cancellable)],
    ['error', run.error_code ? s.red(`${run.error_code}: ${run.error_message ?? ''}`) : undefined],
    ['outcome', run.outcome ? formatParams(run.outcome) : undefined],
  ];
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
  const width = Math.max(...shown.map(([k]) => k.length)) + 1;
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`).join('\n');
}

export function registerActions(program: Command): void {
  const actions = program
    .command('actions')
    .description('List, inspect, start and cancel cluster action runs.')
    .addHelpText(
      'after',
      `
Examples:
  bosun actions list
  bosun actions get change_master
  bosun actions start change_master --arg node_uid=2
  bosun actions cancel change_master`,
    );

  actions
    .command('list')
    .description('Retained runs, oldest first (GET /v1/actions); filtered and paged with the options.')
    .option('--name <action>', 'only runs of this action')
    .option('--status <list>', 'only runs in these statuses, comma-separated (completed,failed)')
    .option('--since <time>', 'created at or after: unix seconds or ISO 8601')
    .option('--until <time>', 'created before: unix seconds or ISO 8601')
    .option('--limit <n>', 'at most n runs (1-1000); prints the cursor of the next page', Number)
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .option('--newest-first', 'newest run first')
    .addHelpText(
      'after',
      `
Examples:
  bosun actions list
  bosun actions list --name change_master --status failed --newest-first --limit 10
  bosun actions list --since 2026-11-30T00:00:00Z -o json | jq '.[] | .action_uid'`,
    )
    .action(async (opts: ListOptions, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const query = {
        name: opts.name,
        status: opts.status,
        since: opts.since,
        until: opts.until,
        limit: opts.limit,
        cursor: opts.cursor,
        order: opts.newestFirst ? ('desc' as const) : undefined,
      };
      const filtered = Object.values(query).some((v) => v !== undefined);
      const page = filtered ? await client.searchActions(query) : { actions: await client.actions() };
      const next = 'next_cursor' in page ? page.next_cursor : undefined;
      if (cli.json) return cli.printJson(page.actions);
      cli.print(page.actions.length === 0 ? 'No action runs.' : runsTable(cli, page.actions));
      if (next !== undefined) cli.note(`more: bosun actions list ... --cursor ${next}`);
    });

  actions
    .command('get')
    .description('One run: by action_uid, or the latest run of an action name.')
    .argument('<name|uid>', 'an action name (change_master) or an action_uid')
    .option('--wait', 'wait for the run to end, with progress; exit 1 if it fails or is cancelled')
    .addHelpText(
      'after',
      `
Examples:
  bosun actions get change_master
  bosun actions get 2f1d3c9e-6b7a-4f4e-9d55-0c8e4e3b1a27
  bosun actions get change_master --wait`,
    )
    .action(async (ref: string, opts: { wait?: boolean }, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const run = UUID.test(ref) ? await client.action(ref) : await client.clusterAction(ref);
      if (opts.wait) {
        const end = await followRun(cli, run);
        return reportRunEnd(cli, end, (r) => renderRun(cli, r));
      }
      if (cli.json) cli.printJson(run);
      else cli.print(renderRun(cli, run));
    });

  actions
    .command('watch')
    .description("Follow a run's event stream until it ends: by action_uid, or the latest run of a name.")
    .argument('<name|uid>', 'an action name (change_master) or an action_uid')
    .addHelpText(
      'after',
      `
Exits 0 when the run completes, 1 when it fails or is cancelled. When the node it reads from goes
away, it resumes on another node without losing or repeating a change.

Examples:
  bosun actions watch change_master
  bosun actions watch 2f1d3c9e-6b7a-4f4e-9d55-0c8e4e3b1a27`,
    )
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const run = UUID.test(ref) ? await client.action(ref) : await client.clusterAction(ref);
      const end = await followRun(cli, run);
      return reportRunEnd(cli, end, (r) => renderRun(cli, r));
    });

  actions
    .command('start')
    .description('Start a run of a cluster action and wait for it, with progress.')
    .argument('<name>', 'the action, such as change_master')
    .option(
      '--arg <key=value>',
      'a parameter of the action (repeatable); JSON values are parsed',
      parseArg,
      {},
    )
    .option('--no-wait', 'return at once with the action_uid instead of waiting')
    .option('--dry-run', 'check whether the run would go, as a table; start nothing (exit 1 on no-go)')
    .option('--idempotency-key <key>', 'retrying with the same key returns the first run instead of a 409')
    .addHelpText(
      'after',
      `
Exits 0 when the run completes, 1 with the server's error_code and message when it fails or is
cancelled. Ctrl-C stops the waiting, not the action.

Examples:
  bosun actions start change_master --arg node_uid=2
  bosun actions start change_master --arg node_uid=3 --no-wait
  bosun actions start change_master --arg node_uid=2 --dry-run
  bosun actions start change_master --arg node_uid=2 --idempotency-key deploy-42`,
    )
    .action(async (name: string, opts: StartCommandOptions, cmd: Command) => {
      const cli = Cli.of(cmd);
      if (opts.dryRun) return runDryRun(cli, name, opts.arg);
      const run = await (
        await cli.client()
      ).startClusterAction(name, opts.arg, {
        idempotencyKey: opts.idempotencyKey,
      });
      if (!opts.wait) return reportStarted(cli, run);
      const end = await followRun(cli, run);
      reportRunEnd(cli, end, (r) => `${r.name} completed${runDetail(r) ? `: ${runDetail(r)}` : ''}`);
    });

  actions
    .command('cancel')
    .description("Cancel the action's queued or running run, or clear a finished run's status.")
    .argument('<name>', 'the action, such as change_master')
    .option('--wait', 'wait until the run has ended; exit 1 unless it ends cancelled')
    .addHelpText(
      'after',
      `
A run past its point of no return cannot be stopped; it then completes or fails.

Examples:
  bosun actions cancel change_master
  bosun actions cancel change_master --wait`,
    )
    .action(async (name: string, opts: { wait?: boolean }, cmd: Command) => {
      const cli = Cli.of(cmd);
      const run = await (await cli.client()).cancelClusterAction(name);
      if (isTerminalStatus(run.status) && run.status !== 'cancelled') {
        // The run had already ended: the DELETE removed its status from /v1/cluster/actions.
        if (cli.json) return cli.printJson(run);
        return cli.print(
          `${name} had already ended (${run.status}); its status was cleared from /v1/cluster/actions`,
        );
      }
      if (run.status === 'cancelled' || !opts.wait) {
        if (cli.json) return cli.printJson(run);
        if (run.status === 'cancelled') return cli.print(`Cancelled ${name} (action_uid ${run.action_uid})`);
        cli.print(`Cancelling ${name} (action_uid ${run.action_uid}); it stops at its next safe point`);
        cli.note(cli.err.dim(`follow it: bosun actions get ${run.action_uid} --wait`));
        return;
      }
      const end = await followRun(cli, run);
      if (cli.json) cli.printJson(end);
      if (end.status === 'cancelled') {
        if (!cli.json) cli.print(`Cancelled ${name} (action_uid ${end.action_uid})`);
        return;
      }
      throw new CliError(
        `${name} could not be cancelled: it ${end.status} (${runDetail(end)})`,
        ExitCode.failed,
      );
    });
}
