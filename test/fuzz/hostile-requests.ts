/**
 * A seeded generator of hostile HTTP requests for the fuzz test: every route and method, path
 * parameters of every shape, bad credentials, bad and repeated headers, and bodies deep, wide, huge,
 * mistyped, prototype-poisoned, non-UTF-8 or not JSON at all; plus raw bytes that are not HTTP.
 *
 * Why a small generator of our own rather than fast-check: the property is over a stream of requests
 * against one stateful cluster, so shrinking (fast-check's main gift) would replay against a cluster
 * the earlier requests already changed; a seed that replays the whole stream, and each failure
 * printed as the exact bytes sent, serve better, and cost no dependency.
 */

/** mulberry32: a tiny, good-enough seeded PRNG. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

export interface Credentials {
  readonly admin: string;
  readonly viewer: string;
  readonly token: string;
}

export interface HostileRequest {
  /** What is written to the socket. */
  readonly bytes: Buffer;
  /** A HEAD request: its answer has no body. */
  readonly head: boolean;
  /** Raw bytes that may not be a complete request (the server's timeouts must answer those). */
  readonly raw: boolean;
  /** A one-line summary for failure reports. */
  readonly summary: string;
}

const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'];

const weirdStrings = [
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '99999999999999999999',
  '1e309',
  'null',
  'true',
  '..',
  '%2e%2e',
  '%00',
  '%zz',
  '%',
  '%e0%80',
  '%ff',
  'ü',
  '%F0%9F%98%80',
  '😀',
  'a'.repeat(100),
  'a'.repeat(128),
  'a'.repeat(129),
  'a'.repeat(1500),
  'change_master',
  'CHANGE_MASTER',
  '__proto__',
  'constructor',
  '1;2',
  '1 OR 1=1',
  '<script>',
];

function param(r: Random, valid: readonly string[]): string {
  if (r.chance(0.5)) return r.pick(valid);
  const s = r.pick(weirdStrings);
  // Spaces would break the request line: percent-encode them.
  return s.replace(/ /g, '%20');
}

function path(r: Random): string {
  const node = () => param(r, ['1', '2', '3', '4', '99']);
  const user = () => param(r, ['2', '3', '4', '5', '999']);
  const action = () => param(r, ['change_master', 'change_master', 'nope']);
  const templates: (() => string)[] = [
    () => '/v1/cluster',
    () => '/v1/cluster/actions',
    () => `/v1/cluster/actions/${action()}`,
    () => r.pick(['/v1/actions', '/v2/actions']),
    () => `/v1/actions/${param(r, ['00000000-0000-0000-0000-000000000000', 'x'])}`,
    () => '/v1/nodes',
    () => '/v1/nodes/status',
    () => `/v1/nodes/${node()}`,
    () => `/v1/nodes/${node()}/status`,
    () => '/v1/local/node/master_healthcheck',
    () => '/v1/users',
    () => `/v1/users/${user()}`,
    () => '/v1/users/authorize',
    () => '/v1/roles',
    () => `/v1/roles/${param(r, ['1', '2', '7', '99'])}`,
    () =>
      r.pick([
        '/v1/cluster/stats',
        '/v1/nodes/stats',
        '/v1/nodes/actions',
        '/v1/bdbs',
        '/v1/shards',
        '/v1/bootstrap',
      ]),
    () => `/v1/nodes/${node()}/${r.pick(['stats', 'actions'])}`,
    () => `/${param(r, ['', 'v1', 'v2', 'v1/', 'v1//cluster', 'V1/CLUSTER'])}`,
    () => `/v1/cluster/actions/${action()}/${param(r, ['x', ''])}`,
  ];
  let p = r.pick(templates)();
  if (p === '/v1/actions' && r.chance(0.5)) return `${p}?${historyQuery(r)}`;
  if (p.startsWith('/v1/cluster/actions/') && r.chance(0.2)) {
    return `${p}?dry_run=${param(r, ['true', '1', 'false', 'yes', ''])}`;
  }
  if (r.chance(0.1)) p += `?${param(r, ['a=1', 'a', '&&', 'a=%zz', `a=${'b'.repeat(3000)}`])}`;
  return p;
}

/** The history parameters of `GET /v1/actions` (src/actions/history-query.ts), good and bad. */
function historyQuery(r: Random): string {
  const values: Record<string, readonly string[]> = {
    name: ['change_master', 'nope', 'Bad-Name', ''],
    status: ['completed', 'completed,failed', 'done', ',', ''],
    since: ['0', '1700000000', '2026-01-01', '2026-01-01T00:00:00Z', 'garbage', '-1', '9'.repeat(30)],
    until: ['2000000000', '2026-13-01', 'x'],
    limit: ['1', '2', '1000', '1001', '0', '-1', 'x', '1e3', '9'.repeat(20)],
    cursor: ['eyJ2IjoxfQ', 'garbage!', 'x'.repeat(600), ''],
    order: ['asc', 'desc', 'newest', ''],
  };
  const out: string[] = [];
  for (const [key, good] of Object.entries(values)) if (r.chance(0.4)) out.push(`${key}=${param(r, good)}`);
  if (r.chance(0.1)) out.push('limit=1&limit=2');
  return out.join('&') || 'limit=1';
}

/** A random JSON value, nested at most `depth` more levels. */
function jsonValue(r: Random, depth: number): unknown {
  const kind = r.int(depth <= 0 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1, 2, 3, 1.5, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31]);
    case 3:
      return r.pick(weirdStrings);
    case 4:
      return r.pick(['\u0000', '\ud800', '\u202e', 'ä', '😀'.repeat(r.int(50)), 'x'.repeat(r.int(5000))]);
    case 5:
    case 6: {
      const out: Record<string, unknown> = {};
      const keys = [
        'node_uid',
        'email',
        'password',
        'role',
        'name',
        'ttl',
        'username',
        'uid',
        'x',
        'constructor',
      ];
      for (let i = r.int(5); i > 0; i--) out[r.pick(keys)] = jsonValue(r, depth - 1);
      return out;
    }
    default:
      return Array.from({ length: r.int(6) }, () => jsonValue(r, depth - 1));
  }
}

/** A body that fits some endpoint, with one field now and then of the wrong type. */
function plausibleBody(r: Random, p: string): unknown {
  const any = () => (r.chance(0.3) ? jsonValue(r, 3) : undefined);
  if (p.includes('/actions/')) return { node_uid: any() ?? r.pick(['1', '2', '3', 2, 3, 0, '04']) };
  if (p.endsWith('/authorize')) {
    return r.chance(0.5)
      ? { ttl: any() ?? r.pick([1, 60, 86_401, 0]) }
      : { username: any() ?? 'a@b', password: any() ?? 'x' };
  }
  if (p.startsWith('/v1/users')) {
    return {
      email: any() ?? `fuzz${r.int(1e6)}@test.local`,
      password: any() ?? 'fuzz-password-1',
      role: any() ?? r.pick(['db_viewer', 'none', 'cluster_viewer', 'admin', 'root', '']),
      ...(r.chance(0.5) ? { name: any() ?? 'Fuzz' } : {}),
    };
  }
  return jsonValue(r, 4);
}

function body(r: Random, p: string): Buffer | undefined {
  switch (r.int(14)) {
    case 0:
      return undefined;
    case 1: {
      const n = r.pick([33, 100, 1000, 4100, 20_000]);
      return Buffer.from(`{"node_uid":${'['.repeat(n)}${']'.repeat(r.chance(0.8) ? n : r.int(n))}}`);
    }
    case 2: {
      const n = r.pick([10_000, 100_000, 250_000]);
      return Buffer.from(`{"node_uid":[${'1,'.repeat(n)}1],"email":"${'e'.repeat(r.int(200_000))}"}`);
    }
    case 3:
      return Buffer.from(
        r.pick([
          '{"__proto__":{"role":"admin"},"node_uid":1}',
          '{"node_uid":1,"\\u005f_proto__":{"x":1}}',
          '{"constructor":{"prototype":{"isAdmin":true}}}',
          '[{"a":{"__proto__":[]}}]',
          '{"email":"a@b.c","password":"password1","__proto__":null}',
        ]),
      );
    case 4:
      return Buffer.from(
        r.pick(['{', '{"node_uid":', "{'a':1}", '[1,]', 'nul', '\u0000', '{"a":1}}', '"', '1 2']),
      );
    case 5:
      return Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    case 6:
      return r.chance(0.3)
        ? Buffer.alloc(1024 * 1024 + 10, 0x20)
        : Buffer.from(JSON.stringify(jsonValue(r, 6)));
    case 7:
      return Buffer.from(JSON.stringify(jsonValue(r, 3)));
    default:
      return Buffer.from(JSON.stringify(plausibleBody(r, p)));
  }
}

function authHeaders(r: Random, c: Credentials): string[] {
  switch (r.int(12)) {
    case 0:
      return [];
    case 1:
      return [`Authorization: ${c.admin}`, `Authorization: ${c.viewer}`];
    case 2:
      return [
        `Authorization: ${r.pick(['Basic', 'Basic ', 'Basic !!!', 'Basic Og==', 'Basic YTpi', 'Bearer x', 'JWT', 'JWT a.b.c', 'Digest x'])}`,
      ];
    case 3:
      return [`Authorization: JWT ${c.token.slice(0, -2)}xx`];
    case 4:
      return [
        `Authorization: Basic ${Buffer.from(`${'a'.repeat(r.int(3000))}:${'b'.repeat(r.int(3000))}`).toString('base64')}`,
      ];
    case 5:
      return [`Authorization: ${c.viewer}`];
    case 6:
      return [`Authorization: JWT ${c.token}`];
    default:
      return [`Authorization: ${c.admin}`];
  }
}

function contentType(r: Random): string[] {
  switch (r.int(12)) {
    case 0:
      return [];
    case 1:
      return ['Content-Type: text/plain'];
    case 2:
      return ['Content-Type: application/json', 'Content-Type: text/plain'];
    case 3:
      return [
        `Content-Type: ${r.pick(['', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'APPLICATION/JSON', 'application/json;;;', 'application/jsonx', '*/*'])}`,
      ];
    default:
      return ['Content-Type: application/json'];
  }
}

function extraHeaders(r: Random): string[] {
  const out: string[] = [];
  if (r.chance(0.05)) out.push(`Expect: ${r.pick(['100-continue', 'teapot', '', '100-continue, x'])}`);
  if (r.chance(0.05)) out.push(`X-Pad: ${'p'.repeat(r.pick([100, 8000, 17_000]))}`);
  if (r.chance(0.03)) out.push('Host: second.example');
  if (r.chance(0.03)) for (let i = 0; i < 200; i++) out.push(`X-Many-${i}: ${i}`);
  if (r.chance(0.03)) out.push('Upgrade: websocket', 'Connection: Upgrade');
  if (r.chance(0.03)) out.push(`Accept: ${r.pick(['text/html', '*/*', 'application/xml', ''])}`);
  if (r.chance(0.05)) {
    out.push(
      `Idempotency-Key: ${r.pick(['fuzz-key-1', 'fuzz-key-2', '', 'x'.repeat(300), 'a\u00e9b', ' pad', 'k'.repeat(255)])}`,
    );
  }
  return out;
}

/** One well-framed request (correct Content-Length or chunking), hostile in its content. */
function structured(r: Random, c: Credentials): HostileRequest {
  const method = r.chance(0.1) ? r.pick(methods) : r.pick(['GET', 'POST', 'PUT', 'DELETE']);
  const p = path(r);
  const b = method === 'GET' && r.chance(0.8) ? undefined : body(r, p);
  const headers = ['Host: 127.0.0.1', ...authHeaders(r, c), ...(b ? contentType(r) : []), ...extraHeaders(r)];
  const chunked = b !== undefined && r.chance(0.1);
  if (b) headers.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${b.length}`);
  if (!headers.some((h) => h.startsWith('Connection:'))) headers.push('Connection: close');
  const head = Buffer.from(`${method} ${p} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
  const payload = !b
    ? Buffer.alloc(0)
    : chunked
      ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')])
      : b;
  return {
    bytes: Buffer.concat([head, payload]),
    head: method === 'HEAD',
    raw: false,
    summary: `${method} ${p.slice(0, 120)} [${headers.map((h) => h.slice(0, 40)).join(' | ')}] body ${b ? `${b.length} B: ${b.subarray(0, 80).toString()}` : 'none'}`,
  };
}

const rawSamples = [
  'GARBAGE\r\n\r\n',
  'GET\r\n\r\n',
  'GET /\r\n\r\n',
  'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
  'GET / HTTP/1.0\r\n\r\n',
  'get /v1/cluster HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /v1/cluster HTTP/1.1\r\n\r\n',
  'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://evil.example/v1/cluster HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /v1/cluster HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n',
  'GET /v1/cluster HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n',
  'GET /v1/cluster HTTP/1.1\nHost: x\n\n',
  'GET /v1/cluster HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
  'POST /v1/users/authorize HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /v1/users/authorize HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{}',
  'POST /v1/users/authorize HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  'POST /v1/users/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{}',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
  '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
  'GET /v1/cluster HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE AFTER\r\n\r\n',
];

/** Bytes that may not be HTTP at all: samples, and valid requests with bytes flipped, cut or inserted. */
function raw(r: Random, c: Credentials): HostileRequest {
  let bytes: Buffer;
  if (r.chance(0.4)) {
    bytes = Buffer.from(r.pick(rawSamples), 'latin1');
  } else {
    const base = Buffer.from(structured(r, c).bytes);
    const copy = Buffer.from(base);
    for (let i = 1 + r.int(4); i > 0; i--) {
      const at = r.int(Math.min(copy.length, 400));
      copy[at] = r.pick([0x00, 0x0d, 0x0a, 0x20, 0x3a, 0x7f, 0xc3, 0xff, 0x25, 0x09, r.int(256)]);
    }
    bytes = r.chance(0.3) ? copy.subarray(0, r.int(copy.length) + 1) : copy;
  }
  return {
    bytes,
    head: bytes.subarray(0, 5).toString() === 'HEAD ',
    raw: true,
    summary: `raw ${JSON.stringify(bytes.subarray(0, 160).toString('latin1'))}`,
  };
}

export function hostileRequest(r: Random, c: Credentials): HostileRequest {
  return r.chance(0.25) ? raw(r, c) : structured(r, c);
}
