/**
 * One HTTP(S) exchange with the API over node:http/node:https, and the HTTPS trust choices: the system
 * CAs (default), a given CA or certificate file, a pinned SHA-256 certificate fingerprint, or
 * `insecure` (any certificate). A pinned connection is checked after the TLS handshake and before the
 * socket is handed to HTTP, so no byte of a request (credentials included) reaches a server whose
 * certificate does not match.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

import { ConnectionError } from './errors.js';

export interface TlsTrust {
  /** Accept any certificate. */
  readonly insecure?: boolean;
  /** Accept exactly the certificate with this SHA-256 fingerprint (any case, colons optional). */
  readonly pinSha256?: string;
  /** PEM CA certificate(s) to trust instead of the system's (a self-signed node certificate works). */
  readonly ca?: string | Buffer;
}

/** `AB:CD:...` (64 hex digits, upper case, colon-separated), or undefined when it is not a SHA-256. */
export function normalizeFingerprint(input: string): string | undefined {
  // Accept openssl's "sha256 Fingerprint=AB:CD..." and "sha256:ABCD..." as well.
  const hex = input
    .trim()
    .replace(/^.*[=]/, '')
    .replace(/^sha-?256:/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_BOSUN_PIN_MISMATCH',
]);

/** Whether a connection error means "the certificate is not trusted" (as opposed to unreachable). */
export function isUntrustedCertificate(code: string | undefined): boolean {
  return code !== undefined && TLS_CODES.has(code);
}

class PinMismatchError extends Error {
  readonly code = 'ERR_BOSUN_PIN_MISMATCH';
  constructor(
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(
      `the server's certificate (SHA-256 ${actual ?? 'unknown'}) does not match the pinned fingerprint ${expected}`,
    );
  }
}

/** An HTTPS agent that accepts exactly one certificate, by its SHA-256 fingerprint. */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly pin: string,
    options: https.AgentOptions,
  ) {
    super({ ...options, rejectUnauthorized: false, maxCachedSessions: 0 });
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    if (!callback) throw new Error('PinnedAgent needs the callback form of createConnection');
    const socket = super.createConnection({ ...options, rejectUnauthorized: false }) as tls.TLSSocket;
    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      callback(err, socket);
    };
    socket.once('secureConnect', () => {
      const actual = socket.getPeerCertificate().fingerprint256;
      if (actual?.toUpperCase() === this.pin) return settle(null);
      const err = new PinMismatchError(this.pin, actual);
      socket.destroy();
      settle(err);
    });
    socket.once('error', (err: Error) => settle(err));
    return undefined;
  }
}

export function createAgent(url: URL, trust: TlsTrust): http.Agent {
  const base = { keepAlive: true, maxSockets: 8 };
  if (url.protocol === 'http:') return new http.Agent(base);
  if (trust.pinSha256 !== undefined) {
    const pin = normalizeFingerprint(trust.pinSha256);
    if (!pin) throw new TypeError(`not a SHA-256 fingerprint: ${trust.pinSha256}`);
    return new PinnedAgent(pin, base);
  }
  if (trust.insecure) return new https.Agent({ ...base, rejectUnauthorized: false });
  return new https.Agent({ ...base, ...(trust.ca !== undefined ? { ca: trust.ca } : {}) });
}

/**
 * The SHA-256 fingerprint of the certificate a TLS server presents, read with a handshake that sends
 * nothing else; for telling an operator what to pin. Undefined when it cannot be read.
 */
export async function fetchCertificateFingerprint(url: URL, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = tls.connect({
      host,
      port: Number(url.port || 443),
      rejectUnauthorized: false,
      ...(/^[0-9.]+$|:/.test(host) ? {} : { servername: host }),
    });
    const finish = (fp: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(fp);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once('secureConnect', () => finish(socket.getPeerCertificate().fingerprint256 || undefined));
    socket.once('error', () => finish(undefined));
  });
}

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export interface HttpRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string | undefined;
  readonly agent: http.Agent;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

function describeNetworkError(err: NodeJS.ErrnoException, url: URL): string {
  const where = `${url.protocol}//${url.host}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${where}: connection refused (is a node running there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${where}: unknown host ${url.hostname}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return url.protocol === 'http:'
        ? `the connection to ${where} was reset (if that is an HTTPS port, use https://)`
        : `the connection to ${where} was reset`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot connect to ${where}: host unreachable`;
    default:
      return `cannot connect to ${where}: ${err.message}`;
  }
}

/** What a failed request is to the caller: a ConnectionError that says which kind of failure, and what to do. */
function requestError(err: NodeJS.ErrnoException, url: URL): ConnectionError {
  const where = `${url.protocol}//${url.host}`;
  if (err instanceof PinMismatchError) {
    return new ConnectionError(where, 'tls', err.message, err.code, { cause: err });
  }
  if (isUntrustedCertificate(err.code)) {
    return new ConnectionError(
      where,
      'tls',
      `the HTTPS certificate of ${where} is not trusted (${err.message})`,
      err.code,
      { cause: err },
    );
  }
  if (err.code?.startsWith('ERR_SSL') || err.code === 'EPROTO') {
    const detail = /wrong version number/i.test(err.message)
      ? 'it does not speak TLS there; if that is an HTTP port, use http://'
      : err.message.split('\n')[0]!.trim();
    return new ConnectionError(where, 'protocol', `TLS with ${where} failed (${detail})`, err.code, {
      cause: err,
    });
  }
  return new ConnectionError(where, 'network', describeNetworkError(err, url), err.code, { cause: err });
}

/** Sends one request; resolves with any HTTP answer, rejects with ConnectionError (or the abort reason). */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  const { url } = req;
  const where = `${url.protocol}//${url.host}`;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    const lib = url.protocol === 'https:' ? https : http;
    const outgoing = lib.request(
      url,
      { method: req.method, headers: req.headers, agent: req.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', (err) => fail(new ConnectionError(where, 'network', `${where}: ${err.message}`)));
        res.once('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          req.signal?.removeEventListener('abort', onAbort);
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    const timer = setTimeout(() => {
      const err = new ConnectionError(
        where,
        'timeout',
        `no answer from ${where} within ${req.timeoutMs} ms`,
        'ETIMEDOUT',
      );
      fail(err);
      outgoing.destroy(err);
    }, req.timeoutMs);
    const onAbort = (): void => {
      const reason: unknown = req.signal?.reason;
      fail(reason instanceof Error ? reason : new Error('aborted'));
      outgoing.destroy();
    };
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.once('error', (err: NodeJS.ErrnoException) => fail(requestError(err, url)));
    if (req.body !== undefined) outgoing.end(req.body);
    else outgoing.end();
  });
}
