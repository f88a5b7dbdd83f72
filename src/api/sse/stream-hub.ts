/**
 * Every event stream open on this node: one heartbeat timer for all of them, and one place that ends
 * them all when the node shuts down (a stream never ends by itself, so the HTTP server's close would
 * otherwise wait for it forever).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { REQUEST_ID_HEADER } from '../request-id.js';
import type { SseConnection } from './sse-connection.js';

export interface StreamSettings {
  /** How often an idle stream gets a `: heartbeat` comment, in ms. (Default: 15000) */
  readonly heartbeatMs: number;
  /** How many events each node keeps for replay after `Last-Event-ID`. (Default: 10000) */
  readonly windowEvents: number;
}

export const defaultStreamSettings: StreamSettings = { heartbeatMs: 15_000, windowEvents: 10_000 };

function positiveInt(value: string | undefined): number | undefined {
  return value !== undefined && /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : undefined;
}

/** `BOSUN_SSE_HEARTBEAT_MS` and `BOSUN_SSE_WINDOW_EVENTS` (README.md, "Event streams"). */
export function streamSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): StreamSettings {
  return {
    heartbeatMs: positiveInt(env.BOSUN_SSE_HEARTBEAT_MS) ?? defaultStreamSettings.heartbeatMs,
    windowEvents: positiveInt(env.BOSUN_SSE_WINDOW_EVENTS) ?? defaultStreamSettings.windowEvents,
  };
}

export class StreamHub {
  readonly #open = new Set<SseConnection>();
  readonly #timer: NodeJS.Timeout;

  constructor(readonly settings: StreamSettings) {
    this.#timer = setInterval(() => {
      for (const conn of this.#open) conn.heartbeat();
    }, settings.heartbeatMs);
    this.#timer.unref();
  }

  get open(): number {
    return this.#open.size;
  }

  /**
   * Takes the response over from Fastify and sends the stream's head. The request timeout no longer
   * applies (the request is complete); the idle timeout does, and the heartbeat keeps it from firing.
   */
  start(
    request: FastifyRequest,
    reply: FastifyReply,
    make: (onClosed: (conn: SseConnection) => void) => SseConnection,
  ): SseConnection {
    void reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
      [REQUEST_ID_HEADER]: request.id,
    });
    res.socket?.setNoDelay(true);
    const conn = make((c) => this.#open.delete(c));
    this.#open.add(conn);
    return conn;
  }

  /** Ends every stream: the node is shutting down. Clients reconnect to another node. */
  closeAll(): void {
    clearInterval(this.#timer);
    for (const conn of [...this.#open]) conn.close('node stopping');
  }
}
