/**
 * Ports for the processes the tests start (nodes, etcd members).
 *
 * A port is chosen here and bound later by another process, so something else can take it in
 * between. Asking the kernel for port 0 hands out a port from the ephemeral range
 * (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 by default), which is also where every
 * outgoing connection of every process on the machine gets its local port: with two test files
 * running at once, a freed port was taken by a client connection before the node listened on it
 * (CI, Node 24). So ports come from below that range, where only an explicit bind can take them,
 * are checked free by binding them, and are never handed out twice by one test process.
 */
import { createServer, type Server } from 'node:net';

const LOW = 20_000;
const HIGH = 32_000; // exclusive; below the default ephemeral range
const handedOut = new Set<number>();

function tryBind(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `count` distinct ports that were free a moment ago, none handed out before by this process. */
export async function freePorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempts = 0; ports.length < count; attempts++) {
      if (attempts > 1_000) throw new Error(`no free port in ${LOW}–${HIGH} after 1000 tries`);
      const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
      if (handedOut.has(port)) continue;
      const server = await tryBind(port);
      if (server === undefined) continue;
      held.push(server); // held until all are found, so one call never returns a port twice
      handedOut.add(port);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map(close));
  }
}

/** One port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
