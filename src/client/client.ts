/**
 * The typed client of Bosun's REST API (Redis Enterprise v1): one method per endpoint. Every failure
 * is an ApiError (the server answered 4xx/5xx, with its `error_code` and `description`) or a
 * ConnectionError (no usable answer).
 */
import type http from 'node:http';

import { ApiError, ConnectionError } from './errors.js';
import { followEventStream, type FollowOptions } from './event-stream.js';
import { createAgent, send, type TlsTrust } from './transport.js';
import {
  isTerminalStatus,
  type ActionRun,
  type ClusterObject,
  type HistoryPage,
  type HistoryQuery,
  type LogEntry,
  type LogQuery,
  type MasterHealthcheck,
  type NewUser,
  type NodeObject,
  type NodesStatus,
  type NodeStatus,
  type Preflight,
  type RoleObject,
  type User,
  type UserChanges,
  type WireTask,
} from './types.js';

export type Credentials = { readonly user: string; readonly password: string } | { readonly token: string };

export interface ClientOptions extends TlsTrust {
  /** The API's base URL, such as `http://127.0.0.1:8080` or `https://10.0.0.5:9443`. */
  readonly url: string;
  readonly credentials?: Credentials;
  /** Per-request timeout; default 10 s. */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export interface StartOptions extends RequestOptions {
  /**
   * Sent as `Idempotency-Key`: a retry with the same key and parameters answers with the run the
   * first request created, on any node, for 24 hours (README, "Idempotent submit").
   */
  readonly idempotencyKey?: string;
}

export interface WaitOptions extends RequestOptions {
  /** Called with every polled state of the run, including the last. */
  readonly onUpdate?: (run: ActionRun) => void;
  /** Called when a poll fails and the wait retries (the node may be restarting, or the master moving). */
  readonly onRetry?: (error: Error) => void;
  /** How long polls may keep failing before the wait gives up with the last error; default 30 s. */
  readonly retryForMs?: number;
}

/**
 * A `/v1/actions` task entry as a run: Redis Enterprise sends `progress` and `creation_time` there as
 * strings (README, "The API"); numbers are accepted too, so older servers keep working.
 */
export function fromWireTask(task: WireTask): ActionRun {
  const { task_id: _taskId, progress, creation_time, ...rest } = task;
  return { ...rest, progress: Number(progress), creation_time: Number(creation_time) };
}

/** Parses a base URL; a bare `host:port` means HTTP. Throws TypeError when it is not an http(s) URL. */
export function parseBaseUrl(raw: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`not an http:// or https:// URL: ${raw}`);
  }
  if (url.search || url.hash) throw new TypeError(`the API URL takes no query or fragment: ${raw}`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function pollInterval(elapsedMs: number): number {
  if (elapsedMs < 3_000) return 100;
  if (elapsedMs < 15_000) return 250;
  return 1_000;
}

/** The signal's reason when it is an Error (callers pass their own), else a generic abort error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      if (signal) reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const enc = encodeURIComponent;

export class BosunClient {
  readonly baseUrl: URL;
  readonly #agent: http.Agent;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #trust: TlsTrust;
  readonly #agents = new Map<string, http.Agent>();

  constructor(options: ClientOptions) {
    this.baseUrl = parseBaseUrl(options.url);
    this.#agent = createAgent(this.baseUrl, options);
    this.#trust = options;
    const c = options.credentials;
    this.#authorization =
      c === undefined
        ? undefined
        : 'token' in c
          ? `JWT ${c.token}`
          : `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#userAgent = options.userAgent ?? 'bosun-client';
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#agent.destroy();
    for (const agent of this.#agents.values()) agent.destroy();
  }

  /**
   * Follows an event stream (README.md, "Event streams"), moving to the cluster's other nodes, with
   * `Last-Event-ID`, when the one it reads from goes away. Resolves with the last event id when
   * `onEvent` says stop; rejects on a 4xx, on abort, or when no node answers for `retryForMs`.
   */
  async follow(
    path: string,
    options: Omit<FollowOptions, 'urls' | 'path' | 'headers' | 'agentFor'>,
  ): Promise<string | undefined> {
    const headers: Record<string, string> = { 'user-agent': this.#userAgent };
    if (this.#authorization) headers.authorization = this.#authorization;
    return followEventStream({
      ...options,
      path,
      headers,
      urls: await this.#peerUrls(options.signal),
      agentFor: (url) => {
        if (url.origin === this.baseUrl.origin) return this.#agent;
        let agent = this.#agents.get(url.origin);
        if (!agent) this.#agents.set(url.origin, (agent = createAgent(url, this.#trust)));
        return agent;
      },
    });
  }

  /** This node first, then every other node the cluster lists, on the same scheme. */
  async #peerUrls(signal?: AbortSignal): Promise<URL[]> {
    const urls = [this.baseUrl];
    const nodes = await this.nodes(signal ? { signal } : undefined).catch(() => [] as NodeObject[]);
    const https = this.baseUrl.protocol === 'https:';
    for (const n of nodes) {
      const port = https ? n.cnm_https_port : n.cnm_http_port;
      if (port === undefined) continue;
      const url = new URL(
        `${this.baseUrl.protocol}//${n.addr.includes(':') ? `[${n.addr}]` : n.addr}:${port}/`,
      );
      if (!urls.some((u) => u.origin === url.origin)) urls.push(url);
    }
    return urls;
  }

  /** One request; the parsed JSON body of a 2xx answer (undefined when empty). */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions & { readonly headers?: Readonly<Record<string, string>> } = {},
  ): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.baseUrl);
    const headers: Record<string, string> = {
      ...options.headers,
      accept: 'application/json',
      'user-agent': this.#userAgent,
    };
    if (this.#authorization) headers.authorization = this.#authorization;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await send({
      url,
      method,
      headers,
      body: payload,
      agent: this.#agent,
      timeoutMs: this.#timeoutMs,
      signal: options.signal,
    });
    let parsed: unknown;
    if (res.text.length > 0) {
      try {
        parsed = JSON.parse(res.text);
      } catch {
        if (res.status < 400) {
          throw new ConnectionError(
            url.origin,
            'protocol',
            `${url.origin} answered ${method} ${url.pathname} with something other than JSON (HTTP ${res.status}); is it a Bosun node?`,
          );
        }
      }
    }
    if (res.status >= 400) {
      const err = parsed as { error_code?: unknown; description?: unknown } | undefined;
      const code = typeof err?.error_code === 'string' ? err.error_code : `http_${res.status}`;
      const description =
        typeof err?.description === 'string'
          ? err.description
          : res.text.trim().slice(0, 200) || `HTTP ${res.status}`;
      throw new ApiError(res.status, code, description, method, url.pathname);
    }
    if (res.status < 200 || res.status >= 300) {
      throw new ConnectionError(
        url.origin,
        'protocol',
        `${url.origin} answered ${method} ${url.pathname} with HTTP ${res.status}`,
      );
    }
    return parsed as T;
  }

  // ---- cluster and nodes ----

  cluster(options?: RequestOptions): Promise<ClusterObject> {
    return this.request('GET', '/v1/cluster', undefined, options);
  }

  /** About the node this client talks to: its uid and the master it sees. */
  masterHealthcheck(options?: RequestOptions): Promise<MasterHealthcheck> {
    return this.request('GET', '/v1/local/node/master_healthcheck', undefined, options);
  }

  nodes(options?: RequestOptions): Promise<NodeObject[]> {
    return this.request('GET', '/v1/nodes', undefined, options);
  }

  node(uid: number, options?: RequestOptions): Promise<NodeObject> {
    return this.request('GET', `/v1/nodes/${uid}`, undefined, options);
  }

  nodesStatus(options?: RequestOptions): Promise<NodesStatus> {
    return this.request('GET', '/v1/nodes/status', undefined, options);
  }

  nodeStatus(uid: number, options?: RequestOptions): Promise<NodeStatus> {
    return this.request('GET', `/v1/nodes/${uid}/status`, undefined, options);
  }

  // ---- cluster actions ----

  /** The latest run of each cluster action. */
  async clusterActions(options?: RequestOptions): Promise<ActionRun[]> {
    const body = await this.request<{ actions: ActionRun[] }>(
      'GET',
      '/v1/cluster/actions',
      undefined,
      options,
    );
    return body.actions;
  }

  /** The latest run of the named action (404 `action_not_found` when there is none). */
  clusterAction(name: string, options?: RequestOptions): Promise<ActionRun> {
    return this.request('GET', `/v1/cluster/actions/${enc(name)}`, undefined, options);
  }

  /** Starts a run; the answer carries its `action_uid`. */
  startClusterAction(
    name: string,
    params: Record<string, unknown> = {},
    options: StartOptions = {},
  ): Promise<ActionRun> {
    const { idempotencyKey, ...rest } = options;
    const headers = idempotencyKey === undefined ? undefined : { 'idempotency-key': idempotencyKey };
    return this.request('POST', `/v1/cluster/actions/${enc(name)}`, params, { ...rest, headers });
  }

  /** The dry run of a start: every check and a verdict; nothing is started (README, "Dry run"). */
  preflight(
    name: string,
    params: Record<string, unknown> = {},
    options?: RequestOptions,
  ): Promise<Preflight> {
    return this.request('POST', `/v1/cluster/actions/${enc(name)}?dry_run=true`, params, options);
  }

  /** One page of the run history (README, "Searching the history"). */
  async searchActions(query: HistoryQuery, options?: RequestOptions): Promise<HistoryPage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const body = await this.request<{ actions: WireTask[]; next_cursor?: string }>(
      'GET',
      `/v1/actions?${params.toString()}`,
      undefined,
      options,
    );
    return { actions: body.actions.map(fromWireTask), next_cursor: body.next_cursor };
  }

  /** Cancels a queued or running run of the action, or removes a finished run's status. */
  cancelClusterAction(name: string, options?: RequestOptions): Promise<ActionRun> {
    return this.request('DELETE', `/v1/cluster/actions/${enc(name)}`, undefined, options);
  }

  /** `change_master`: moves the master role to node `uid`. */
  changeMaster(uid: number, options?: StartOptions): Promise<ActionRun> {
    return this.startClusterAction('change_master', { node_uid: String(uid) }, options);
  }

  /** Every retained run. */
  async actions(options?: RequestOptions): Promise<ActionRun[]> {
    const body = await this.request<{ actions: WireTask[] }>('GET', '/v1/actions', undefined, options);
    return body.actions.map(fromWireTask);
  }

  async action(actionUid: string, options?: RequestOptions): Promise<ActionRun> {
    return fromWireTask(
      await this.request<WireTask>('GET', `/v1/actions/${enc(actionUid)}`, undefined, options),
    );
  }

  /**
   * Polls the run until it is completed, failed or cancelled, and returns its last state. Polls that
   * fail to connect, or meet a 5xx, are retried for `retryForMs`; an abort stops the waiting only.
   */
  async waitForRun(actionUid: string, options: WaitOptions = {}): Promise<ActionRun> {
    const started = Date.now();
    let failingSince: number | undefined;
    for (;;) {
      try {
        const run = await this.action(actionUid, options);
        failingSince = undefined;
        options.onUpdate?.(run);
        if (isTerminalStatus(run.status)) return run;
      } catch (err) {
        const transient = err instanceof ConnectionError || (err instanceof ApiError && err.status >= 500);
        if (!transient || options.signal?.aborted) throw err;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > (options.retryForMs ?? 30_000)) throw err;
        options.onRetry?.(err);
      }
      await sleep(pollInterval(Date.now() - started), options.signal);
    }
  }

  // ---- users ----

  /** A JWT for `{ token }` credentials. */
  async authorize(ttlSeconds?: number, options?: RequestOptions): Promise<string> {
    const body = await this.request<{ access_token: string }>(
      'POST',
      '/v1/users/authorize',
      ttlSeconds === undefined ? {} : { ttl: ttlSeconds },
      options,
    );
    return body.access_token;
  }

  users(options?: RequestOptions): Promise<User[]> {
    return this.request('GET', '/v1/users', undefined, options);
  }

  user(uid: number, options?: RequestOptions): Promise<User> {
    return this.request('GET', `/v1/users/${uid}`, undefined, options);
  }

  createUser(user: NewUser, options?: RequestOptions): Promise<User> {
    return this.request('POST', '/v1/users', user, options);
  }

  updateUser(uid: number, changes: UserChanges, options?: RequestOptions): Promise<User> {
    return this.request('PUT', `/v1/users/${uid}`, changes, options);
  }

  async deleteUser(uid: number, options?: RequestOptions): Promise<void> {
    await this.request('DELETE', `/v1/users/${uid}`, undefined, options);
  }

  /** The built-in roles, with the uids `role_uids` refers to. */
  roles(options?: RequestOptions): Promise<RoleObject[]> {
    return this.request('GET', '/v1/roles', undefined, options);
  }

  /** The cluster event log (`GET /v1/logs`), oldest first unless `order` is `desc`. */
  logs(query: LogQuery = {}, options?: RequestOptions): Promise<LogEntry[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.request('GET', `/v1/logs${qs ? `?${qs}` : ''}`, undefined, options);
  }
}
