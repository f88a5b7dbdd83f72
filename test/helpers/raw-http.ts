/**
 * Raw HTTP/1.1 over a real TCP or TLS socket: what `fetch` cannot send (malformed request lines,
 * repeated headers, trickled bytes) and what it hides (the exact status line and headers).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Everything the server sent, unparsed. */
  readonly raw: string;
}

export interface RawTarget {
  readonly port: number;
  readonly tls?: boolean;
}

export function openSocket(target: RawTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.tls
      ? tlsConnect({ port: target.port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(socket))
      : netConnect(target.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Parses the first final response in `raw` (Content-Length or chunked; interim 1xx answers are
 * skipped); undefined while incomplete. `bodiless`: the answer to a HEAD, which has no body.
 */
export function parseResponse(raw: string, bodiless = false): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!match) return undefined;
  if (match[1]!.startsWith('1')) return parseResponse(raw.slice(end + 4), bodiless);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = raw.slice(end + 4);
  let body: string;
  if (bodiless || match[1] === '204' || match[1] === '304') {
    body = '';
  } else if (headers['transfer-encoding'] === 'chunked') {
    body = '';
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd < 0) return undefined;
      const size = parseInt(rest.slice(0, lineEnd), 16);
      if (size === 0) break;
      if (rest.length < lineEnd + 2 + size) return undefined;
      body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
  } else {
    const length = Number(headers['content-length'] ?? 0);
    if (Buffer.byteLength(rest) < length) return undefined;
    body = Buffer.from(rest).subarray(0, length).toString();
  }
  return { status: Number(match[1]), headers, body, raw };
}

/**
 * Sends `request` and resolves with the first full response (or undefined when the server closed
 * without one). The socket is closed after it, or after `timeoutMs` at the latest.
 */
export async function rawRequest(
  target: RawTarget,
  request: string | Buffer,
  timeoutMs = 10_000,
  options: { bodiless?: boolean } = {},
): Promise<RawResponse | undefined> {
  const socket = await openSocket(target);
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(received, options.bodiless));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (parseResponse(received, options.bodiless)) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    socket.write(request);
  });
}
