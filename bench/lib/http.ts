/**
 * A small HTTP/1.1 client on node:http with a keep-alive agent. The benchmarks poll at millisecond
 * intervals, where fetch's per-request overhead (undici, streams, AbortSignal) would be part of what is
 * measured; a plain request on a kept-alive socket costs a fraction of that.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

import { adminAuth } from '../../test/helpers/in-process-node.js';

export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly bytes: number;
  readonly headers: IncomingHttpHeaders;
}

export class HttpClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly auth: string = adminAuth) {}

  request<T = unknown>(
    method: string,
    url: string,
    body?: unknown,
    timeoutMs = 10_000,
  ): Promise<HttpResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.#agent,
          headers: {
            authorization: this.auth,
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({
                status: res.statusCode ?? 0,
                body: (text ? JSON.parse(text) : undefined) as T,
                bytes: Buffer.byteLength(text),
                headers: res.headers,
              });
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Times a GET to the last byte of the body, without parsing it: `ms` is what a client waits. */
  timeGet(url: string, timeoutMs = 10_000): Promise<{ status: number; bytes: number; ms: number }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = request(
        url,
        { method: 'GET', agent: this.#agent, headers: { authorization: this.auth }, timeout: timeoutMs },
        (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0 }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  get<T = unknown>(url: string, timeoutMs?: number): Promise<HttpResponse<T>> {
    return this.request<T>('GET', url, undefined, timeoutMs);
  }

  close(): void {
    this.#agent.destroy();
  }
}
