/**
 * The REST client: one node's origin and the session's token. Errors come back as `ApiError` with the
 * server's own `error_code` and `description` (shown to the user as they are), and a node that does
 * not answer in time as `Unreachable`, which the session turns into a failover (session.ts).
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(`${status} ${code}: ${description}`);
  }
}

export class Unreachable extends Error {}

export interface Whoami {
  readonly uid: number;
  readonly name: string;
  readonly email: string;
  readonly role: string;
  readonly permissions: readonly string[];
}

const TIMEOUT_MS = 4000;

/** A body with the store revision the node's view had reached when it took the request. */
export interface Snapshot<T> {
  readonly body: T;
  /** From `X-Bosun-Revision`; undefined from a node that does not send it. */
  readonly revision: number | undefined;
}

export class Api {
  token: string | undefined;

  constructor(public origin: string) {}

  /** Calls `origin + path`; resolves with the parsed body (undefined for an empty one). */
  async call<T>(method: string, path: string, body?: unknown, origin = this.origin): Promise<T> {
    return (await this.#send<T>(method, path, body, origin)).body;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** A GET whose answer says how recent it is (docs/decisions.md, "Dashboard snapshots and the stream"). */
  read<T>(path: string): Promise<Snapshot<T>> {
    return this.#send<T>('GET', path, undefined, this.origin);
  }

  async #send<T>(method: string, path: string, body: unknown, origin: string): Promise<Snapshot<T>> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `JWT ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(origin + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        cache: 'no-store',
      });
    } catch (err) {
      throw new Unreachable(`${origin} did not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = (parsed ?? {}) as { error_code?: unknown; description?: unknown };
      throw new ApiError(
        res.status,
        typeof e.error_code === 'string' ? e.error_code : `http_${res.status}`,
        typeof e.description === 'string' ? e.description : text.slice(0, 300) || res.statusText,
      );
    }
    const revision = Number(res.headers.get('x-bosun-revision') ?? NaN);
    return { body: parsed as T, revision: Number.isSafeInteger(revision) ? revision : undefined };
  }

  /** Signs in; the token is kept by the caller (session.ts), never written anywhere else. */
  async authorize(login: string, password: string): Promise<string> {
    const body = login.includes('@') ? { email: login, password } : { username: login, password };
    const res = await this.call<{ access_token: string }>('POST', '/v1/users/authorize', body);
    return res.access_token;
  }
}

/** The message to show for any failure: the server's own words when it gave some. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.status} ${err.code}: ${err.description}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
