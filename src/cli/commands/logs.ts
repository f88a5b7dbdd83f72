/** `bosun logs`: the cluster event log (GET /v1/logs), once or followed. */
import { InvalidArgumentError, Option, type Command } from 'commander';

import type { LogEntry } from '../../client/index.js';
import { Cli } from '../context.js';
import type { Style } from '../output.js';

interface LogsOptions {
  since?: string;
  until?: string;
  limit?: number;
  order?: 'asc' | 'desc';
  follow?: boolean;
  interval: number;
}

const SHOWN_FIRST = ['time', 'severity', 'type', 'id'];

/** One entry on one line: time, severity, type, then the other fields as key=value. */
export function formatEntry(style: Style, e: LogEntry): string {
  const severity =
    e.severity === 'ERROR'
      ? style.red(e.severity)
      : e.severity === 'WARNING'
        ? style.yellow(e.severity)
        : e.severity;
  const fields = Object.entries(e)
    .filter(([k, v]) => !SHOWN_FIRST.includes(k) && v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [e.time, severity.padEnd(7), e.type, ...fields].join('  ');
}

function isoArg(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value)))
    throw new InvalidArgumentError(`expected an ISO 8601 time such as 2026-01-31T12:00:00Z, got '${value}'`);
  return value;
}

function positive(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description(
      'The cluster event log: actions, master changes, nodes, users and failed logins (GET /v1/logs).',
    )
    .option('--since <time>', 'only events at or after this ISO 8601 time', isoArg)
    .option('--until <time>', 'only events at or before this ISO 8601 time', isoArg)
    .option('--limit <n>', 'at most this many events', positive)
    .addOption(new Option('--order <order>', 'oldest or newest first').choices(['asc', 'desc']))
    .option('-f, --follow', 'keep printing new events as they happen (Ctrl-C stops)')
    .option('--interval <ms>', 'how often --follow asks for new events', positive, 1000)
    .addHelpText(
      'after',
      `
Examples:
  bosun logs
  bosun logs --since 2026-01-31T00:00:00Z --order desc --limit 20
  bosun logs -f
  bosun logs -o json | jq '.[] | select(.type == "login_failed")'`,
    )
    .action(async (opts: LogsOptions, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const entries = await client.logs({
        stime: opts.since,
        etime: opts.until,
        limit: opts.limit,
        order: opts.order,
      });
      if (!opts.follow) {
        if (cli.json) return cli.printJson(entries);
        cli.print(
          entries.length === 0 ? 'No events.' : entries.map((e) => formatEntry(cli.out, e)).join('\n'),
        );
        return;
      }
      // Following: JSON lines (one entry per line) with -o json, so a pipe can read them as they come.
      const show = (e: LogEntry): void => {
        if (cli.json) process.stdout.write(`${JSON.stringify(e)}\n`);
        else cli.print(formatEntry(cli.out, e));
      };
      const shown = [...entries].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
      for (const e of shown) show(e);
      await follow(cli, shown.at(-1)?.time ?? new Date().toISOString(), shown, show, opts.interval);
    });
}

/**
 * How far back each poll of --follow looks again. Nodes write their entries a little after their time
 * (batched), and their clocks differ a little: an entry may land with a time before the newest one
 * already printed. Entries are told apart by their `id`.
 */
const LOOKBACK_MS = 5000;

/**
 * Polls for entries from a little before the newest time seen, printing those not printed yet (by their
 * `id`, or their whole content), until Ctrl-C. Connection errors are retried; they never end the command.
 */
async function follow(
  cli: Cli,
  from: string,
  already: readonly LogEntry[],
  show: (e: LogEntry) => void,
  intervalMs: number,
): Promise<void> {
  const client = await cli.client();
  const keyOf = (e: LogEntry): string => e.id ?? JSON.stringify(e);
  let newest = from;
  const window = (): string => new Date(Date.parse(newest) - LOOKBACK_MS).toISOString();
  let seen = new Set(already.filter((e) => e.time >= window()).map(keyOf));
  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    while (!stop.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        stop.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (stop.signal.aborted) break;
      let batch: LogEntry[];
      try {
        batch = await client.logs({ stime: window() }, { signal: stop.signal });
      } catch (err) {
        if (stop.signal.aborted) break;
        cli.note(`bosun: ${err instanceof Error ? err.message : String(err)}; retrying`);
        continue;
      }
      for (const e of batch) {
        if (seen.has(keyOf(e))) continue;
        show(e);
        seen.add(keyOf(e));
        if (e.time > newest) newest = e.time;
      }
      // What the next poll can return again: the entries inside its window.
      seen = new Set(batch.filter((e) => e.time >= window()).map(keyOf));
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
