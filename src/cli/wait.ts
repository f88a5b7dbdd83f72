/**
 * Waiting for a run with live progress, and reporting how it ended. Ctrl-C stops the waiting only:
 * the run goes on in the cluster, and the CLI says how to follow or cancel it.
 */
import { isTerminalStatus, watchRun, type ActionRun } from '../client/index.js';
import { CliError, ExitCode, type Cli } from './context.js';
import { runDetail } from './output.js';
import { createProgress } from './progress.js';

class Interrupted extends Error {}

/** Follows the run's event stream to its end, drawing progress on stderr. */
export async function followRun(cli: Cli, run: ActionRun): Promise<ActionRun> {
  const client = await cli.client();
  const progress = createProgress(process.stderr, {
    style: cli.err,
    live: process.stderr.isTTY === true,
    // Plain progress lines are for people reading logs; a script asking for JSON gets only JSON.
    quiet: cli.json && process.stderr.isTTY !== true,
  });
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Interrupted());
  process.once('SIGINT', onSigint);
  let last = run;
  try {
    progress.update(run);
    if (isTerminalStatus(run.status)) return run;
    return await watchRun(client, run.action_uid, {
      signal: controller.signal,
      onUpdate: (r) => {
        last = r;
        progress.update(r);
      },
      onRetry: (err) => progress.retrying(err),
    });
  } catch (err) {
    if (err instanceof Interrupted) {
      progress.stop();
      throw new CliError(
        `stopped waiting; ${last.name} ${last.action_uid} goes on in the cluster (${last.status}, ${Math.round(last.progress)}%).`,
        ExitCode.interrupted,
        [
          `follow it:  bosun actions get ${last.action_uid} --wait`,
          last.cancellable === false
            ? `it can no longer be cancelled: ${last.cancellable_reason ?? 'it is past its point of no return'}`
            : `cancel it:  bosun actions cancel ${last.name}`,
        ],
      );
    }
    throw err;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
}

/**
 * Prints how a finished run ended: with `-o json` the run itself, else `success(run)` when it
 * completed. A failed or cancelled run is an error with exit code 1 carrying the server's
 * `error_code` and message.
 */
export function reportRunEnd(cli: Cli, run: ActionRun, success: (run: ActionRun) => string): void {
  if (cli.json) cli.printJson(run);
  if (run.status === 'completed') {
    if (!cli.json) cli.print(success(run));
    return;
  }
  if (run.status === 'failed') {
    throw new CliError(
      `${run.name} failed: ${run.error_code ?? 'unknown_error'}: ${run.error_message ?? 'no message'}`,
      ExitCode.failed,
    );
  }
  if (run.status === 'cancelled') {
    throw new CliError(`${run.name} was cancelled: ${runDetail(run)}`, ExitCode.failed);
  }
  throw new CliError(`${run.name} is still ${run.status}`, ExitCode.failed);
}

/** After `--no-wait`: the action_uid (or the run as JSON) and how to follow it. */
export function reportStarted(cli: Cli, run: ActionRun): void {
  if (cli.json) return cli.printJson(run);
  cli.print(`${run.name} started: action_uid ${run.action_uid}`);
  cli.note(cli.err.dim(`follow it: bosun actions get ${run.action_uid} --wait`));
}
