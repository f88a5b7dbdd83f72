/**
 * The fuzz test (issue 14): a seeded stream of hostile requests (hostile-requests.ts) against a real
 * 3-node cluster of `bosun node` processes, over HTTP and HTTPS, for about 45 seconds. It asserts:
 * - no answer is a 5xx;
 * - every error answer is `{"error_code", "description"}` with a catalogue code of that status;
 * - every request gets an answer (no hang, no silent close), an incomplete one from the server's
 *   own timeouts (set short here), except requests that are nothing but blank lines, and requests
 *   that declare a body over the 1 MiB limit: the server refuses those without reading the whole
 *   body and drains the rest before closing (api/lingering-close.ts), but a reset can still race
 *   the answer on the client's side (seen on Node 24, about once in 5,000 requests), and so for a
 *   malformed head followed by a large body, which the server answers from its parse error. Such lost
 *   answers show as `none` in the printed status counts;
 * - every node is still up and serving at the end.
 *
 * Reproduce a run with BOSUN_FUZZ_SEED=<seed> (the seed is printed); BOSUN_FUZZ_MS sets the budget.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { BODY_LIMIT } from '../../src/api/limits.js';
import { httpStatus } from '../../src/api/http-errors.js';
import { errorCatalogue } from '../../src/errors/catalogue.js';
import { runFields } from '../api/support.js';
import { adminAuth, basic } from '../helpers/in-process-node.js';
import { ProcessCluster } from '../helpers/process-cluster.js';
import { rawRequest, type RawResponse, type RawTarget } from '../helpers/raw-http.js';
import { hostileRequest, Random, type Credentials, type HostileRequest } from './hostile-requests.js';

const seed = Number(process.env.BOSUN_FUZZ_SEED ?? 14_2026);
const budgetMs = Number(process.env.BOSUN_FUZZ_MS ?? 45_000);
const maxRequests = 20_000;
// Most answers take milliseconds; an incomplete raw request waits for the 2 s header timeout.
const workers = 10;

/** The request's head declares a body over the server's 1 MiB limit (BODY_LIMIT). */
function declaresOversizedBody(req: HostileRequest): boolean {
  const head =
    req.bytes
      .subarray(0, 64 * 1024)
      .toString('latin1')
      .split('\r\n\r\n')[0] ?? '';
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return match !== null && Number(match[1]) > BODY_LIMIT;
}

/**
 * The head is one Node's parser refuses (a header line that is not `token: value`), and a large
 * body follows: the server answers 400 from its parse error without reading the body, so the same
 * client-side reset can race that answer as for an oversized body.
 */
function malformedHeadWithLargeBody(req: HostileRequest): boolean {
  const text = req.bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0 || req.bytes.length - end < 64 * 1024) return false;
  const headerLines = text.slice(0, end).split('\r\n').slice(1);
  return headerLines.some((line) => !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(line));
}

/** What is wrong with `res` as the answer to `req`, or undefined when it is fine. */
function problem(req: HostileRequest, target: RawTarget, res: RawResponse | undefined): string | undefined {
  if (!res) {
    if (req.bytes.toString('latin1').trim() === '') return undefined;
    if (declaresOversizedBody(req) || malformedHeadWithLargeBody(req)) return undefined;
    return 'no answer (the connection closed or hung without a response)';
  }
  if (res.status >= 500) return `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
  if (res.status < 400 || req.head) return undefined;
  if (!/^application\/json/.test(res.headers['content-type'] ?? '')) {
    return `HTTP ${res.status} with Content-Type ${res.headers['content-type']}: ${res.raw.slice(0, 300)}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return `HTTP ${res.status} with a body that is not JSON: ${res.body.slice(0, 300)}`;
  }
  const keys = body && typeof body === 'object' ? Object.keys(body).sort().join(',') : typeof body;
  const { error_code: code, description } = body as { error_code: unknown; description: unknown };
  // An error about a run also names the run (docs/errors.md); every other body has the two keys.
  const extra = (typeof code === 'string' && runFields[code as keyof typeof runFields]) || [];
  if (keys !== ['description', 'error_code', ...extra].sort().join(','))
    return `HTTP ${res.status} body keys ${keys}: ${res.body.slice(0, 300)}`;
  if (typeof code !== 'string' || !Object.hasOwn(errorCatalogue, code))
    return `unknown error_code ${String(code)}`;
  const status = httpStatus[code as keyof typeof httpStatus];
  if (status !== res.status) return `${code} is catalogued as ${status}, answered as ${res.status}`;
  if (typeof description !== 'string' || description.length === 0 || description.length > 600) {
    return `description of ${typeof description === 'string' ? description.length : typeof description} characters`;
  }
  void target;
  return undefined;
}

describe(`fuzzing a 3-node cluster with hostile requests (seed ${seed})`, () => {
  let cluster: ProcessCluster;
  let credentials: Credentials;

  before(async () => {
    cluster = await ProcessCluster.start({
      // Short enough that a request left incomplete is answered (408) well within the client's wait.
      nodeArgs: ['--headers-timeout', '2000', '--request-timeout', '4000'],
    });
    const n1 = cluster.node(1);
    const viewer = await n1.request('POST', '/v1/users', {
      email: 'viewer@fuzz.local',
      password: 'viewer-password-1',
      role: 'db_viewer',
    });
    assert.equal(viewer.status, 200, JSON.stringify(viewer.body));
    const token = await n1.request<{ access_token: string }>('POST', '/v1/users/authorize', {});
    assert.equal(token.status, 200);
    credentials = {
      admin: adminAuth,
      viewer: basic('viewer@fuzz.local', 'viewer-password-1'),
      token: token.body.access_token,
    };
  });

  after(async () => {
    await cluster?.destroy();
  });

  it('answers every request, never with a 5xx, every error from the catalogue, and every node stays up', async () => {
    const targets: RawTarget[] = cluster.nodes.flatMap((n) => [
      { port: n.httpPort },
      { port: n.httpsPort, tls: true },
    ]);
    const failures: string[] = [];
    const statuses = new Map<number | 'none', number>();
    let sent = 0;
    const deadline = Date.now() + budgetMs;

    const worker = async (): Promise<void> => {
      while (Date.now() < deadline && sent < maxRequests && failures.length < 20) {
        // Request i comes from its own generator, so the stream is the same whatever order the
        // answers arrive in; BOSUN_FUZZ_SEED replays it.
        const random = new Random(seed * 1_000_003 + sent);
        sent++;
        const req = hostileRequest(random, credentials);
        const target = random.pick(targets);
        let res: RawResponse | undefined;
        try {
          // Never half-closed: a client's FIN aborts its request in Node (as a full close would),
          // so the server's own timeouts must answer whatever is left incomplete.
          res = await rawRequest(target, req.bytes, 8000, { bodiless: req.head });
        } catch (err) {
          failures.push(
            `${target.tls ? 'https' : 'http'}:${target.port} refused the connection (${String(err)}): ${req.summary}`,
          );
          continue;
        }
        statuses.set(res?.status ?? 'none', (statuses.get(res?.status ?? 'none') ?? 0) + 1);
        const wrong = problem(req, target, res);
        if (wrong) {
          const bytes = JSON.stringify(req.bytes.subarray(0, 4000).toString('latin1'));
          failures.push(
            `${target.tls ? 'https' : 'http'}:${target.port}: ${wrong}\n    request: ${req.summary}\n    bytes: ${bytes}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));

    const summary = [...statuses.entries()]
      .sort()
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
    console.log(`fuzz seed ${seed}: ${sent} requests; statuses ${summary}`);
    assert.deepEqual(failures, [], `seed ${seed}: ${failures.length} bad answers`);
    assert.ok(sent >= 150, `only ${sent} requests were sent`);

    for (const node of cluster.nodes) {
      assert.ok(node.running, `node ${node.uid} is down`);
      // With the token: the fuzz's wrong passwords put this client over its failed-login limit, so
      // password logins from it get 429 for a minute; a token is never limited.
      const status = await node.request('GET', '/v1/nodes/status', undefined, {
        authorization: `JWT ${credentials.token}`,
      });
      assert.equal(status.status, 200, `node ${node.uid}: ${JSON.stringify(status.body)}`);
    }
  });
});
