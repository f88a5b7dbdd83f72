/**
 * A load generator in its own process, so that a flood's client work does not slow the process that
 * times the probes. Runs autocannon with the options in argv[2] (JSON) until it is told to stop over
 * IPC (or its duration ends), guessing a new password for `login` with each request, then sends `{type: 'done', statusCounts, responses, durationS}`.
 *
 *   fork('dist/bench/lib/flood-child.js', [JSON.stringify({url, connections, durationS, headers, login})])
 */
import autocannon from 'autocannon';

interface FloodJob {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly headers: Record<string, string>;
  /** The login whose password is guessed. */
  readonly login: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as FloodJob;
const statusCounts: Record<string, number> = {};
let responses = 0;
const started = performance.now();
let seq = 0;
const instance = autocannon(
  {
    url: job.url,
    connections: job.connections,
    duration: job.durationS,
    // A different wrong password each time: a repeated one is answered from the node's memory of
    // failures, which a guessing attack cannot use (src/api/auth/authenticator.ts).
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          headers: {
            ...job.headers,
            authorization: `Basic ${Buffer.from(`${job.login}:wrong-${process.pid}-${++seq}`).toString('base64')}`,
          },
        }),
      },
    ],
  },
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
