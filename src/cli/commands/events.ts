/**
 * `bosun events`: follows the cluster's event stream (GET /v1/events; README.md, "Event streams")
 * until Ctrl-C, one line per event, moving to another node when the one it reads from goes away.
 */
import { InvalidArgumentError, type Command } from 'commander';

import type { SseEvent } from '../../client/index.js';
import { Cli } from '../context.js';
import type { Style } from '../output.js';

function revision(value: string): string {
  if (!/^[0-9]{1,15}$/.test(value))
    throw new InvalidArgumentError(`expected a store revision, got '${value}'`);
  return value;
}

/** `<id>  <type>  key=value ...`: the event's fields, never more than one line. */
export function formatEvent(style: Style, ev: SseEvent): string {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(ev.data) as Record<string, unknown>;
  } catch {
    data = { data: ev.data };
  }
  const shown =
    ev.event === 'action'
      ? ['action_uid', 'name', 'status', 'progress', 'phase', 'cancellable', 'error_code']
      : Object.keys(data);
  const fields = shown
    .filter((k) => data[k] !== undefined && data[k] !== null)
    .map((k) => `${k}=${typeof data[k] === 'string' ? data[k] : JSON.stringify(data[k])}`);
  const type = ev.event === 'reset' ? style.yellow(ev.event) : ev.event;
  return [(ev.id ?? '-').padStart(6), type.padEnd(7), ...fields].join('  ');
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('Follow the cluster live: runs, master changes, nodes and users (GET /v1/events).')
    .option('--since <revision>', 'replay the events after this store revision first', revision)
    .addHelpText(
      'after',
      `
Runs until Ctrl-C. When the node it reads from goes away, it resumes on another node where it left
off. A "reset" line means the events after --since are no longer held: reload state.

Examples:
  bosun events
  bosun events --since 1234
  bosun events -o json | jq -c 'select(.event == "master")'`,
    )
    .action(async (opts: { since?: string }, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const stop = new AbortController();
      const onSigint = (): void => stop.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      try {
        await client.follow('/v1/events', {
          lastEventId: opts.since,
          signal: stop.signal,
          onReconnect: (err, next) => process.stderr.write(`(${err.message}; resuming on ${next.host})\n`),
          onEvent: (ev) => {
            if (cli.json)
              cli.print(JSON.stringify({ id: ev.id, event: ev.event, data: JSON.parse(ev.data) as unknown }));
            else if (ev.event !== 'hello') cli.print(formatEvent(cli.out, ev));
            return undefined;
          },
        });
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
