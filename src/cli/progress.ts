/**
 * The progress of a run while the CLI waits for it, on stderr (stdout stays for results). On a TTY it
 * is one live line, redrawn in place and erased at the end; elsewhere (a pipe, a CI log) it is one
 * plain line per change of status or phase, with no control characters.
 */
import type { ActionRun } from '../client/index.js';
import { makeStyle, statusStyle, visibleLength, type Style } from './output.js';

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(chunk: string): boolean;
}

export interface Progress {
  update(run: ActionRun): void;
  /** A poll failed and the wait retries. */
  retrying(error: Error): void;
  /** Erases the live line (if any) and stops redrawing. */
  stop(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** `[██████░░░░░░░░░░░░░░]` for 0..100. */
export function progressBar(progress: number, width: number): string {
  const pct = Math.min(100, Math.max(0, Number.isFinite(progress) ? progress : 0));
  const filled = Math.round((pct / 100) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** The live line: spinner, name, bar, percent, status and phase, elapsed seconds; fits `columns`. */
export function liveLine(
  run: ActionRun,
  style: Style,
  frame: number,
  elapsedMs: number,
  columns = 80,
  note?: string,
): string {
  const pct = `${Math.round(run.progress)}%`.padStart(4);
  const phase = run.phase && run.phase !== run.status ? ` · ${run.phase}` : '';
  const tail = note ? `  ${style.yellow(note)}` : '';
  const head = `${style.cyan(SPINNER[frame % SPINNER.length]!)} ${style.bold(run.name)}  `;
  const rest =
    ` ${pct}  ${statusStyle(style, run.status)}${phase}  ` +
    `${style.dim(`${(elapsedMs / 1000).toFixed(1)}s`)}${tail}`;
  const room = columns - 1 - visibleLength(head) - visibleLength(rest) - 2;
  const bar = room >= 10 ? progressBar(run.progress, Math.min(30, room)) : '';
  return `${head}${bar}${rest}`;
}

/** `change_master: running 40% (handing_over)`: a plain line for logs. */
export function plainLine(run: ActionRun): string {
  const phase = run.phase && run.phase !== run.status ? ` (${run.phase})` : '';
  return `${run.name}: ${run.status} ${Math.round(run.progress)}%${phase}`;
}

export function createProgress(
  stream: ProgressStream,
  options: { readonly style: Style; readonly live: boolean; readonly quiet?: boolean },
): Progress {
  if (options.quiet) return { update: () => undefined, retrying: () => undefined, stop: () => undefined };
  return options.live ? liveProgress(stream, options.style) : lineProgress(stream);
}

function lineProgress(stream: ProgressStream): Progress {
  let last: { status: string; phase: string | undefined; progress: number } | undefined;
  let retryShown = false;
  return {
    update(run) {
      const changed =
        !last ||
        last.status !== run.status ||
        last.phase !== run.phase ||
        (run.progress - last.progress >= 25 && run.progress < 100);
      if (changed) stream.write(`${plainLine(run)}\n`);
      last = { status: run.status, phase: run.phase, progress: run.progress };
      retryShown = false;
    },
    retrying(error) {
      if (retryShown) return;
      retryShown = true;
      stream.write(`cannot poll the run (${error.message}); retrying\n`);
    },
    stop: () => undefined,
  };
}

function liveProgress(stream: ProgressStream, style: Style): Progress {
  const started = Date.now();
  let run: ActionRun | undefined;
  let note: string | undefined;
  let frame = 0;
  let stopped = false;
  const draw = (): void => {
    if (!run || stopped) return;
    const columns = stream.columns || 80;
    let line = liveLine(run, style, frame++, Date.now() - started, columns, note);
    // Never wrap: a wrapped line cannot be redrawn in place. Drop the colour rather than cut a sequence.
    if (visibleLength(line) >= columns) {
      line = [...liveLine(run, makeStyle(false), frame, Date.now() - started, columns, note)]
        .slice(0, columns - 1)
        .join('');
    }
    stream.write(`\r\x1b[2K${line}`);
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    update(next) {
      run = next;
      note = undefined;
      draw();
    },
    retrying(error) {
      note = `(reconnecting: ${error.message})`;
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (run) stream.write('\r\x1b[2K');
    },
  };
}
