/** Text output: colour (only on a TTY, never with NO_COLOR), tables, durations and run summaries. */
import type { ActionRun } from '../client/index.js';

export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** Colour for a stream: on a TTY, unless NO_COLOR is set (non-empty), TERM is dumb or --no-color. */
export function colorEnabled(
  stream: { readonly isTTY?: boolean },
  flag: boolean,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function makeStyle(enabled: boolean): Style {
  const wrap =
    (open: number, close: number) =>
    (text: string): string =>
      enabled && text !== '' ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

export function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - visibleLength(text))) + text;
}

/** Columns separated by two spaces; the last column is not padded. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: { readonly rightAlign?: readonly number[]; readonly headerStyle?: (s: string) => string } = {},
): string {
  const widths = headers.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        if (i === cells.length - 1 && !options.rightAlign?.includes(i)) return cell;
        return options.rightAlign?.includes(i) ? padStart(cell, widths[i]!) : padEnd(cell, widths[i]!);
      })
      .join('  ')
      .trimEnd();
  const head = options.headerStyle ?? ((s: string) => s);
  return [head(line(headers)), ...rows.map(line)].join('\n');
}

/** `45s`, `2m05s`, `3h12m`, `2d03h`: a compact duration for uptimes and ages. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor((s % 86400) / 3600))}h`;
}

/** `3m05s ago` for a Unix time in seconds. */
export function formatAgo(unixSeconds: number, nowMs = Date.now()): string {
  return `${formatDuration(nowMs / 1000 - unixSeconds)} ago`;
}

export function statusStyle(style: Style, status: string): string {
  switch (status) {
    case 'completed':
    case 'active':
      return style.green(status);
    case 'failed':
    case 'down':
      return style.red(status);
    case 'cancelled':
    case 'cancelling':
      return style.yellow(status);
    case 'running':
    case 'starting':
    case 'queued':
      return style.cyan(status);
    default:
      return status;
  }
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `node_uid=2 force=true`. */
export function formatParams(params: Readonly<Record<string, unknown>> | undefined): string {
  return Object.entries(params ?? {})
    .map(([k, v]) => `${k}=${scalar(v)}`)
    .join(' ');
}

/** One line saying what a run did or is doing, for tables and final messages. */
export function runDetail(run: ActionRun): string {
  const outcome = run.outcome ?? {};
  if (run.status === 'failed') {
    return `${run.error_code ?? 'failed'}: ${run.error_message ?? ''}`.trim();
  }
  if (run.status === 'cancelled') {
    return run.error_message ?? scalar(outcome.message ?? 'cancelled');
  }
  if (run.status === 'completed') {
    if (typeof outcome.message === 'string') return outcome.message;
    if (outcome.old_master !== undefined && outcome.new_master !== undefined) {
      const ms = typeof outcome.handover_ms === 'number' ? ` (hand-over ${outcome.handover_ms} ms)` : '';
      return `master ${scalar(outcome.old_master)} → ${scalar(outcome.new_master)}${ms}`;
    }
    return formatParams(outcome);
  }
  return formatParams(run.params);
}
