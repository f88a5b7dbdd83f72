/** `bosun cluster master [set <uid>]`, as `rladmin cluster master [set <id>]`. */
import { InvalidArgumentError, type Command } from 'commander';

import type { ActionRun } from '../../client/index.js';
import { Cli, CliError, ExitCode } from '../context.js';
import { runDryRun } from '../preflight.js';
import { followRun, reportRunEnd, reportStarted } from '../wait.js';

/** A node uid on the command line: a positive integer. */
export function parseUid(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`'${value}' is not a node uid (a positive integer)`);
  }
  return n;
}

export function masterSetMessage(run: ActionRun, uid: number): string {
  if (run.outcome?.noop === true) return `Node ${uid} is already the cluster master node; nothing to do`;
  const ms = run.outcome?.handover_ms;
  return `Node ${uid} set to be the cluster master node${typeof ms === 'number' ? ` (hand-over ${ms} ms)` : ''}`;
}

export function registerCluster(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('Cluster-wide settings and roles.')
    .addHelpText('after', '\nExamples:\n  bosun cluster master\n  bosun cluster master set 2');

  const master = cluster
    .command('master')
    .description('Print which node is the cluster master.')
    .addHelpText(
      'after',
      `
Examples:
  bosun cluster master                 # Node 1 is the cluster master node
  bosun cluster master set 2           # move the master role to node 2 and wait
  bosun cluster master -o json`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const statuses = await client.nodesStatus();
      const entry = Object.entries(statuses).find(([, s]) => s.role === 'master');
      if (!entry) {
        throw new CliError(
          'no node is the cluster master right now (an election may be in progress); try again shortly',
          ExitCode.failed,
        );
      }
      const [uid, status] = entry;
      if (cli.json) cli.printJson({ uid: Number(uid), ...status });
      else cli.print(`Node ${uid} is the cluster master node`);
    });

  master
    .command('set')
    .description('Move the master role to another node (the change_master action), and wait for it.')
    .argument('<uid>', 'the node that becomes master', parseUid)
    .option('--no-wait', 'return at once with the action_uid instead of waiting')
    .option('--dry-run', 'check whether the change would go, as a table; start nothing (exit 1 on no-go)')
    .option('--idempotency-key <key>', 'retrying with the same key returns the first run instead of a 409')
    .addHelpText(
      'after',
      `
Waits with a live progress bar and exits 0 once the node is master; exits 1 with the server's
error_code and message if the run fails or is cancelled. Ctrl-C stops the waiting, not the action.

Examples:
  bosun cluster master set 2
  bosun cluster master set 3 --no-wait          # prints the action_uid
  bosun cluster master set 2 -o json | jq .outcome
  bosun cluster master set 2 --dry-run          # the preflight checks and the verdict
  bosun cluster master set 2 --idempotency-key "$(uuidgen)"`,
    )
    .action(
      async (
        uid: number,
        opts: { wait: boolean; dryRun?: boolean; idempotencyKey?: string },
        cmd: Command,
      ) => {
        const cli = Cli.of(cmd);
        if (opts.dryRun) return runDryRun(cli, 'change_master', { node_uid: String(uid) });
        const client = await cli.client();
        const run = await client.changeMaster(uid, { idempotencyKey: opts.idempotencyKey });
        if (!opts.wait) return reportStarted(cli, run);
        const end = await followRun(cli, run);
        reportRunEnd(cli, end, (r) => masterSetMessage(r, uid));
      },
    );
}
