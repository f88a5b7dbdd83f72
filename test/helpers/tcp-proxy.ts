/**
 * A TCP proxy on 127.0.0.1 in front of one endpoint, for fault tests: it can hold back the bytes of
 * either direction (a hung peer or a one-way partition: the connection stays open, nothing arrives),
 * let them through again, and cut every connection at once.
 *
 * "upstream" is client → target (requests), "downstream" is target → client (responses). Held-back
 * bytes are kept in order and delivered on resume, as TCP would after a stall.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Direction = 'upstream' | 'downstream' | 'both';

const LOCALHOST = '127.0.0.1';

/** One direction of one proxied connection. */
class Pipe {
  #held: Buffer[] = [];
  #paused = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
  ) {
    from.on('data', (chunk: Buffer) => {
      if (this.#paused) this.#held.push(chunk);
      else this.#forward(chunk);
    });
    // Backpressure: stop reading while the other side's buffer is full.
    to.on('drain', () => {
      if (!this.#paused) from.resume();
    });
  }

  pause(): void {
    this.#paused = true;
    this.from.pause();
  }

  resume(): void {
    this.#paused = false;
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) this.#forward(chunk);
    this.from.resume();
  }

  #forward(chunk: Buffer): void {
    if (this.to.destroyed) return;
    if (!this.to.write(chunk)) this.from.pause();
  }
}

interface Connection {
  readonly client: Socket;
  readonly target: Socket;
  readonly upstream: Pipe;
  readonly downstream: Pipe;
}

export class TcpProxy {
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  #upstreamPaused = false;
  #downstreamPaused = false;

  private constructor(
    server: Server,
    readonly port: number,
    readonly targetHost: string,
    readonly targetPort: number,
  ) {
    this.#server = server;
    server.on('connection', (client) => this.#accept(client));
  }

  /** Starts a proxy to `host:port` on a free local port (or `listenPort`). */
  static async start(target: { host?: string; port: number }, listenPort = 0): Promise<TcpProxy> {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, LOCALHOST, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    return new TcpProxy(server, address.port, target.host ?? LOCALHOST, target.port);
  }

  /** `host:port` to hand to clients instead of the target's. */
  get endpoint(): string {
    return `${LOCALHOST}:${this.port}`;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Holds back bytes in `direction`, on current and future connections. */
  pause(direction: Direction = 'both'): void {
    if (direction !== 'downstream') this.#upstreamPaused = true;
    if (direction !== 'upstream') this.#downstreamPaused = true;
    for (const c of this.#connections) this.#apply(c);
  }

  /** Lets bytes in `direction` through again, held-back ones first. */
  resume(direction: Direction = 'both'): void {
    if (direction !== 'downstream') this.#upstreamPaused = false;
    if (direction !== 'upstream') this.#downstreamPaused = false;
    for (const c of this.#connections) this.#apply(c);
  }

  /**
   * Cuts every open connection. With `reset`, both ends get a TCP RST (as when a host crashes or a
   * firewall rejects); otherwise an orderly close. New connections are still accepted.
   */
  closeAll(options: { reset?: boolean } = {}): void {
    for (const c of this.#connections) this.#destroy(c, options.reset ?? false);
    this.#connections.clear();
  }

  /** Stops listening and cuts every connection. */
  async close(): Promise<void> {
    this.closeAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const target = connect({ host: this.targetHost, port: this.targetPort });
    target.pause();
    client.setNoDelay(true);
    target.setNoDelay(true);
    const connection: Connection = {
      client,
      target,
      upstream: new Pipe(client, target),
      downstream: new Pipe(target, client),
    };
    this.#connections.add(connection);
    const teardown = (): void => {
      if (!this.#connections.delete(connection)) return;
      this.#destroy(connection, false);
    };
    client.on('error', teardown);
    target.on('error', teardown);
    client.on('close', teardown);
    target.on('close', teardown);
    target.once('connect', () => this.#apply(connection));
  }

  #apply(c: Connection): void {
    if (c.target.connecting) return; // applied once connected
    if (this.#upstreamPaused) c.upstream.pause();
    else c.upstream.resume();
    if (this.#downstreamPaused) c.downstream.pause();
    else c.downstream.resume();
  }

  #destroy(c: Connection, reset: boolean): void {
    for (const socket of [c.client, c.target]) {
      if (socket.destroyed) continue;
      if (reset) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}
