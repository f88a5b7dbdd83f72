/** A test's view of one event stream: every event it received, and ways to wait on them. */
import http from 'node:http';

import { SseParser, type SseEvent } from '../../src/client/sse-parser.js';
import { eventually } from './process-cluster.js';

export interface OpenStream {
  readonly status: number;
  readonly events: SseEvent[];
  readonly parser: SseParser;
  /** Resolves when the server ends the stream (or the connection breaks). */
  readonly ended: Promise<void>;
  readonly isEnded: () => boolean;
  /** The raw body of a non-200 answer. */
  readonly body: string;
  close(): void;
  /** Stops reading: the socket's buffers fill and the server sees a slow reader. */
  pause(): void;
  waitFor(predicate: (ev: SseEvent) => boolean, what: string, timeoutMs?: number): Promise<SseEvent>;
}

export function data<T = Record<string, unknown>>(ev: SseEvent): T {
  return JSON.parse(ev.data) as T;
}

export async function openStream(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
  /** Called with each event as it is parsed (benchmarks time arrivals with it). */
  onEvent?: (ev: SseEvent) => void,
): Promise<OpenStream> {
  const events: SseEvent[] = [];
  const parser = new SseParser();
  let ended = false;
  let endResolve!: () => void;
  const endedP = new Promise<void>((r) => (endResolve = r));
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get(new URL(path, baseUrl), { headers }, resolve);
    req.once('error', reject);
  });
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    if (res.statusCode !== 200) body += chunk;
    else
      for (const ev of parser.push(chunk)) {
        events.push(ev);
        onEvent?.(ev);
      }
  });
  const end = () => {
    ended = true;
    endResolve();
  };
  res.once('end', end);
  res.once('close', end);
  res.once('error', end);
  if (res.statusCode !== 200) await endedP;
  return {
    status: res.statusCode ?? 0,
    events,
    parser,
    ended: endedP,
    isEnded: () => ended,
    get body() {
      return body;
    },
    close: () => res.destroy(),
    pause: () => void res.pause(),
    waitFor: (predicate, what, timeoutMs = 15_000) =>
      eventually(async () => events.find(predicate), timeoutMs, what),
  };
}
