/**
 * HTTP load with autocannon. Besides autocannon's own figures (whose latency histogram has 1 ms
 * resolution), every response's time is collected from the tracker's `response` event, so percentiles
 * here are exact to the microsecond.
 */
import autocannon from 'autocannon';

import { roundSummary, summarize, type Summary } from './stats.js';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly headers?: Record<string, string>;
  readonly method?: 'GET' | 'POST';
  /** For POST: a fresh body for each request. */
  readonly body?: () => string;
  /** Return every response time (ms) too, e.g. to pool several concurrent loads. */
  readonly keepTimes?: boolean;
}

export interface LoadResult {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly responses: number;
  /** Responses with status 2xx per second of the run. */
  readonly rps2xx: number;
  readonly statusCounts: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  /** Latency of 2xx responses, ms. */
  readonly latency: Summary;
  /** Latency of every response, ms. */
  readonly latencyAll: Summary;
  /** autocannon's own p99 (1 ms resolution), for cross-checking. */
  readonly autocannonP99: number;
  readonly autocannonAvgRps: number;
  readonly bytesPerResponse: number;
  readonly times?: number[];
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const times2xx: number[] = [];
  const timesAll: number[] = [];
  const statusCounts: Record<string, number> = {};
  let bytes = 0;
  const started = performance.now();
  let finish: (r: autocannon.Result) => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      duration: options.durationS,
      headers: options.headers ?? {},
      ...(options.method === 'POST'
        ? {
            requests: [
              {
                method: 'POST',
                headers: { ...(options.headers ?? {}), 'content-type': 'application/json' },
                setupRequest: (req) => ({ ...req, body: options.body?.() ?? '{}' }),
              },
            ],
          }
        : {}),
    },
    (err: Error | null, result: autocannon.Result) => (err ? fail(err) : finish(result)),
  );
  instance.on('response', (_client: unknown, statusCode: number, resBytes: number, responseTime: number) => {
    timesAll.push(responseTime);
    if (statusCode >= 200 && statusCode < 300) times2xx.push(responseTime);
    statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
    bytes += resBytes;
  });
  const result = await done;
  const elapsedS = (performance.now() - started) / 1000;
  return {
    url: options.url,
    connections: options.connections,
    durationS: Math.round(elapsedS * 100) / 100,
    responses: timesAll.length,
    rps2xx: Math.round(times2xx.length / elapsedS),
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    latency: roundSummary(summarize(times2xx), 3),
    latencyAll: roundSummary(summarize(timesAll), 3),
    autocannonP99: result.latency.p99,
    autocannonAvgRps: result.requests.average,
    bytesPerResponse: timesAll.length > 0 ? Math.round(bytes / timesAll.length) : 0,
    ...(options.keepTimes ? { times: timesAll } : {}),
  };
}
