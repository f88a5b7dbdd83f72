/** Runs the real `bosun` binary as a subprocess, with pipes (never a TTY) for stdin, stdout and stderr. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../../bin/bosun.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRun {
  readonly proc: ChildProcess;
  readonly done: Promise<CliResult>;
  /** Resolves once stderr contains `text`. */
  stderrIncludes(text: string): Promise<void>;
}

/** The environment for a run: the caller's, minus every BOSUN_* and colour variable, plus `env`. */
export function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('BOSUN_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') base[k] = v;
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliRun {
  const proc = spawn(process.execPath, [bin, ...args], {
    env: cliEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  proc.stdin.end();
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of waiters.filter((x) => stderr.includes(x.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  // A hung CLI fails its test instead of the whole run.
  const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const done = new Promise<CliResult>((resolve) => {
    proc.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    proc,
    done,
    stderrIncludes: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stderr.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void done.then(() => reject(new Error(`bosun exited before printing "${text}"; stderr: ${stderr}`)));
      }),
  };
}

export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return startCli(args, env).done;
}

/** A readable summary for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}
