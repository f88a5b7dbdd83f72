/**
 * The baseline for the API benchmark: a bare Fastify server, in its own process like a node, that
 * answers the same GET paths with the same JSON bodies a Bosun node returned. No auth, no schema, no
 * view: a handler that returns the object, which Fastify serializes with JSON.stringify.
 *
 *   node dist/bench/bare-server.js <bodies.json> <port>
 *
 * `bodies.json` maps a path to its body. Sends `{type: 'ready', port}` over IPC once listening.
 */
import { readFileSync } from 'node:fs';

import Fastify from 'fastify';

const [bodiesPath = '', portArg = '0'] = process.argv.slice(2);
const bodies = JSON.parse(readFileSync(bodiesPath, 'utf8')) as Record<string, unknown>;

const app = Fastify();
for (const [path, body] of Object.entries(bodies)) {
  app.get(path, async () => body);
}

app.listen({ port: Number(portArg), host: '127.0.0.1' }).then(
  () => {
    const addr = app.server.address();
    process.send?.({ type: 'ready', port: addr && typeof addr === 'object' ? addr.port : 0 });
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
process.on('disconnect', () => process.exit(0));
