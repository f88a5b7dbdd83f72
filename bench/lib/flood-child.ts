/**
 * A load generator in its own process, so that a flood's client work does not slow the process that
 * times the probes. Runs autocannon with the options in argv[2] (JSON) until it is told to stop over
 * IPC (or its duration ends), then sends `{type: 'done', statusCounts, responses, durationS}`.
 *
 *   fork('dist/bench/lib/flood-child.js', [JSON.stringify({url, connections, durationS, headers})])
 */
import autocannon from 'autocannon';

interface FloodJob {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly headers: Record<string, string>;
}

const job = JSON.parse(process.argv[2] ?? '{}') as FloodJob;
const statusCounts: Record<string, number> = {};
let responses = 0;
const started = performance.now();
const instance = autocannon(
  { url: job.url, connections: job.connections, duration: job.durationS, headers: job.headers },
  () => {
    process.send?.({
      type: 'done',
      statusCounts,
      responses,
      durationS: (performance.now() - started) / 1000,
    });
    process.disconnect?.();
  },
);
instance.on('response', (_client: unknown, statusCode: number) => {
  responses++;
  statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
});
process.send?.({ type: 'started' });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') instance.stop();
});
process.on('disconnect', () => instance.stop());
