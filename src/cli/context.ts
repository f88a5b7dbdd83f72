/**
 * What every API command shares: the global options (connection, output, colour), the exit codes,
 * the client built from them, and how errors become one line on stderr and an exit code.
 */
import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import {
  ApiError,
  BosunClient,
  ConnectionError,
  fetchCertificateFingerprint,
  isUntrustedCertificate,
  parseBaseUrl,
  type Credentials,
} from '../client/index.js';
import { version } from '../version.js';
import { colorEnabled, makeStyle, type Style } from './output.js';
import { promptHidden } from './prompt.js';

/** The documented exit codes. */
export const ExitCode = {
  ok: 0,
  /** The action failed or was cancelled, or the server refused the request. */
  failed: 1,
  /** Bad command line: unknown command or option, bad argument. */
  usage: 2,
  /** Missing or wrong credentials (401), or a role without the permission (403). */
  auth: 3,
  /** No answer from the API: refused, unreachable, timed out, or an untrusted certificate. */
  connect: 4,
  /** Ctrl-C while waiting; the action goes on. */
  interrupted: 130,
} as const;

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** An error the CLI reports as one line (`bosun: <message>`) with a given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** More lines, printed after the message (hints). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface GlobalOptions {
  url?: string;
  user?: string;
  password?: string;
  insecure?: boolean;
  pinSha256?: string;
  caCert?: string;
  output: 'text' | 'json';
  color: boolean;
  timeout: number;
}

export class Cli {
  readonly json: boolean;
  /** Style for stdout and for stderr: each coloured only when it is a TTY. */
  readonly out: Style;
  readonly err: Style;
  readonly url: string;
  readonly urlSource: 'flag' | 'env' | 'default';
  #client: BosunClient | undefined;

  constructor(
    readonly options: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.json = options.output === 'json';
    this.out = makeStyle(colorEnabled(process.stdout, options.color, env));
    this.err = makeStyle(colorEnabled(process.stderr, options.color, env));
    const fromEnv = env.BOSUN_URL?.trim() || undefined;
    this.url = options.url ?? fromEnv ?? DEFAULT_URL;
    this.urlSource = options.url !== undefined ? 'flag' : fromEnv !== undefined ? 'env' : 'default';
  }

  /** The context of the command being run (one per process), for main's error report. */
  static current: Cli | undefined;

  static of(command: Command): Cli {
    Cli.current = new Cli(command.optsWithGlobals<GlobalOptions>());
    return Cli.current;
  }

  get user(): string | undefined {
    return this.options.user ?? (this.env.BOSUN_USER || undefined);
  }

  /** The client, built on first use; asks for the password on a terminal when none is given. */
  async client(): Promise<BosunClient> {
    if (this.#client) return this.#client;
    const user = this.user;
    let password = this.options.password ?? (this.env.BOSUN_PASSWORD || undefined);
    if (user === undefined) {
      throw new CliError(
        'no credentials: pass --user and --password, or set BOSUN_USER and BOSUN_PASSWORD',
        ExitCode.auth,
      );
    }
    if (password === undefined) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) {
        throw new CliError(`no password for ${user}: pass --password or set BOSUN_PASSWORD`, ExitCode.auth);
      }
      password = await promptHidden(`Password for ${user}: `);
      if (password === undefined) throw new CliError('interrupted', ExitCode.interrupted);
    }
    const credentials: Credentials = { user, password };
    const pin = this.options.pinSha256 ?? (this.env.BOSUN_PIN_SHA256 || undefined);
    let ca: Buffer | undefined;
    const caFile = this.options.caCert ?? (this.env.BOSUN_CA_CERT || undefined);
    if (caFile !== undefined) {
      try {
        ca = readFileSync(caFile);
      } catch (err) {
        throw new CliError(`cannot read --ca-cert ${caFile}: ${(err as Error).message}`, ExitCode.usage);
      }
    }
    try {
      this.#client = new BosunClient({
        url: this.url,
        credentials,
        insecure: this.options.insecure === true,
        ...(pin !== undefined ? { pinSha256: pin } : {}),
        ...(ca !== undefined ? { ca } : {}),
        timeoutMs: this.options.timeout,
        userAgent: `bosun-cli/${version}`,
      });
    } catch (err) {
      throw new CliError((err as Error).message, ExitCode.usage);
    }
    return this.#client;
  }

  close(): void {
    this.#client?.close();
  }

  /** A line of results on stdout. */
  print(line = ''): void {
    process.stdout.write(`${line}\n`);
  }

  printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A line for the operator on stderr (notes, hints). */
  note(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** Turns any error into its message on stderr and the exit code. Never prints a stack trace. */
  async report(err: unknown): Promise<number> {
    const fail = (message: string, code: number, details: readonly string[] = []): number => {
      process.stderr.write(`${this.err.red('bosun:')} ${message.replace(/\s*\n\s*/g, ' ')}\n`);
      for (const d of details) process.stderr.write(`  ${d}\n`);
      return code;
    };
    if (err instanceof CliError) return fail(err.message, err.exitCode, err.details);
    if (err instanceof ApiError) {
      if (this.json) this.printJson(err.body);
      if (err.status === 401) {
        return fail(
          `${err.errorCode}: ${err.description} (as ${this.user ?? 'nobody'}; check --user/--password or BOSUN_USER/BOSUN_PASSWORD)`,
          ExitCode.auth,
        );
      }
      if (err.status === 403) {
        return fail(`${err.errorCode}: ${err.description} (user ${this.user ?? '?'})`, ExitCode.auth);
      }
      return fail(`${err.errorCode}: ${err.description}`, ExitCode.failed);
    }
    if (err instanceof ConnectionError) {
      if (
        err.failure === 'tls' &&
        isUntrustedCertificate(err.code) &&
        err.code !== 'ERR_BOSUN_PIN_MISMATCH'
      ) {
        const fp = await fetchCertificateFingerprint(parseBaseUrl(this.url));
        const hint = fp
          ? `Its SHA-256 fingerprint is ${fp}; if that is your node's certificate, pass --pin-sha256 ${fp} (or --insecure to skip the check).`
          : 'Pass --pin-sha256 <fingerprint> or --ca-cert <file> to trust it, or --insecure to skip the check.';
        return fail(`${err.message}. ${hint}`, ExitCode.connect);
      }
      const hint =
        err.failure === 'network' && this.urlSource === 'default'
          ? ` (no --url or BOSUN_URL given, so tried ${DEFAULT_URL})`
          : '';
      return fail(`${err.message}${hint}`, ExitCode.connect);
    }
    const message = err instanceof Error ? err.message : String(err);
    if (this.env.BOSUN_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return fail(`unexpected error: ${message}`, ExitCode.failed);
  }
}
