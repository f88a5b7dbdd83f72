/**
 * `--dry-run` on the commands that start an action: the server's preflight (README, "Dry run") as
 * a table, one check a line, then the verdict. Exit 0 on go and 1 on no-go, so a script can write
 * `bosun cluster master set 2 --dry-run && bosun cluster master set 2`.
 */
import type { Preflight } from '../client/index.js';
import { CliError, ExitCode, type Cli } from './context.js';
import { table } from './output.js';

export function preflightTable(cli: Cli, result: Preflight): string {
  const s = cli.out;
  const rows = result.checks.map((c) => [c.name, c.passed ? s.green('pass') : s.red('FAIL'), c.message]);
  const verdict = result.verdict === 'go' ? s.green('go') : s.red('no-go');
  return `${table(['CHECK', 'RESULT', 'MESSAGE'], rows, { headerStyle: (h) => s.bold(h) })}\n\n${result.action}: ${verdict} (dry run; nothing was started)`;
}

export async function runDryRun(cli: Cli, name: string, params: Record<string, unknown>): Promise<void> {
  const result = await (await cli.client()).preflight(name, params);
  if (cli.json) cli.printJson(result);
  else cli.print(preflightTable(cli, result));
  if (result.verdict !== 'go') {
    const failed = result.checks.filter((c) => !c.passed).map((c) => c.name);
    throw new CliError(`${name} would not go: ${failed.join(', ')} failed`, ExitCode.failed);
  }
}
