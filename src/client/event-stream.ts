/**
 * Follows one of the API's event streams (README.md, "Event streams") across nodes: when the node it
 * reads from goes away (killed, stopping, unreachable, silent past the heartbeat), it reconnects to
 * the next node of the list with `Last-Event-ID`, so the caller sees every event once, in order.
 * An answer of 4xx (bad credentials, unknown run) is not retried: it would answer the same anywhere.
 */
import http from 'node:http';
import https from 'node:https';

import { ApiError, ConnectionError } from './errors.js';
import { SseParser, type SseEvent } from './sse-parser.js';

export interface FollowOptions {
  /** Nodes to read from, in order of preference; the first is tried first. */
  readonly urls: readonly URL[];
  /** Such as `/v1/events` or `/v1/actions/<uid>/events`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly agentFor: (url: URL) => http.Agent;
  /** Resume after this event id (a store revision). */
  readonly lastEventId?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Every event; return `stop` to end the stream there. */
  readonly onEvent: (event: SseEvent, node: URL) => 'stop' | undefined | void;
  /** The stream broke and is resuming on `next`. */
  readonly onReconnect?: ((error: Error, next: URL) => void) | undefined;
  /** How long reconnecting may keep failing before giving up with the last error. (Default: 30 s) */
  readonly retryForMs?: number | undefined;
  /** No byte for this long (heartbeats included) means the node is gone. (Default: 45 s) */
  readonly silenceMs?: number | undefined;
}

type Outcome = { readonly kind: 'stopped' } | { readonly kind: 'broken'; readonly error: Error };

/** Follows the stream until `onEvent` says stop or the signal aborts; resolves with the last event id. */
export async function followEventStream(options: FollowOptions): Promise<string | undefined> {
  let lastEventId = options.lastEventId;
  let index = 0;
  let failingSince: number | undefined;
  // A revision's events carry one `id:`, on the last: events delivered since the last id belong to a
  // revision the server will replay whole after a reconnect, so that many are skipped then.
  let partial = 0;
  let skip = 0;
  for (let attempt = 0; ; attempt++) {
    const url = options.urls[index % options.urls.length]!;
    const parser = new SseParser();
    let received = false;
    const outcome = await readOnce(url, options, lastEventId, parser, (ev) => {
      received = true;
      if (parser.lastEventId !== undefined) lastEventId = parser.lastEventId;
      if (ev.event === 'reset') skip = 0;
      if (ev.event !== 'hello' && skip > 0) {
        skip--;
        return undefined;
      }
      if (ev.event !== 'hello') partial = ev.id !== undefined ? 0 : partial + 1;
      return options.onEvent(ev, url);
    });
    skip = partial;
    if (parser.lastEventId !== undefined) lastEventId = parser.lastEventId;
    if (outcome.kind === 'stopped') return lastEventId;
    if (options.signal?.aborted) throw outcome.error;
    if (outcome.error instanceof ApiError && outcome.error.status < 500) throw outcome.error;
    const now = Date.now();
    failingSince = received ? undefined : (failingSince ?? now);
    if (failingSince !== undefined && now - failingSince > (options.retryForMs ?? 30_000))
      throw outcome.error;
    index++;
    const next = options.urls[index % options.urls.length]!;
    options.onReconnect?.(outcome.error, next);
    // A short pause once every node has been tried, so a cluster that is down is not hammered.
    if (index % options.urls.length === 0)
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
  }
}

/** One connection: reads events until the server ends the stream, it breaks, or the caller stops. */
function readOnce(
  url: URL,
  options: FollowOptions,
  lastEventId: string | undefined,
  parser: SseParser,
  onEvent: (ev: SseEvent) => 'stop' | undefined | void,
): Promise<Outcome> {
  const target = new URL(options.path.replace(/^\//, ''), url);
  const where = `${url.protocol}//${url.host}`;
  return new Promise<Outcome>((resolve) => {
    let done = false;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      options.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(outcome);
    };
    const lib = target.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { ...options.headers, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const req = lib.request(target, { method: 'GET', headers, agent: options.agentFor(url) }, (res) => {
      if (res.statusCode !== 200) return rejectAnswer(res, target, finish);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const ev of parser.push(chunk)) {
          if (onEvent(ev) === 'stop') return finish({ kind: 'stopped' });
        }
      });
      const ended = () =>
        finish({ kind: 'broken', error: new ConnectionError(where, 'network', `${where} ended the stream`) });
      res.once('end', ended);
      res.once('close', ended);
      res.once('error', (err) => finish({ kind: 'broken', error: err }));
    });
    req.setTimeout(options.silenceMs ?? 45_000, () =>
      finish({ kind: 'broken', error: new ConnectionError(where, 'timeout', `${where} went silent`) }),
    );
    req.once('error', (err) =>
      finish({ kind: 'broken', error: new ConnectionError(where, 'network', err.message) }),
    );
    const onAbort = (): void => {
      const reason: unknown = options.signal?.reason;
      finish({ kind: 'broken', error: reason instanceof Error ? reason : new Error('aborted') });
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}

function rejectAnswer(res: http.IncomingMessage, target: URL, finish: (o: Outcome) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c.length + text.length < 65536 ? c : ''));
  res.once('end', () => {
    let body: { error_code?: unknown; description?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    const status = res.statusCode ?? 0;
    const code = typeof body?.error_code === 'string' ? body.error_code : `http_${status}`;
    const description = typeof body?.description === 'string' ? body.description : `HTTP ${status}`;
    finish({ kind: 'broken', error: new ApiError(status, code, description, 'GET', target.pathname) });
  });
  res.once('error', (err) => finish({ kind: 'broken', error: err }));
}
