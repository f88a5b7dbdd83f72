/**
 * The typed client (src/client/) against small local servers: error mapping, timeouts, polling, and
 * HTTPS trust (a pinned certificate is checked before any request byte is sent).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';

import {
  ApiError,
  BosunClient,
  ConnectionError,
  fetchCertificateFingerprint,
  normalizeFingerprint,
  parseBaseUrl,
  type ActionRun,
} from '../../src/client/index.js';
import { loadOrCreateCertificate, type TlsMaterial } from '../../src/node/tls.js';
import { freePort } from '../helpers/ports.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): AddressInfo | string | null;
}): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

describe('client over HTTP', () => {
  let handler: Handler = (_req, res) => json(res, 200, {});
  const server = createHttpServer((req, res) => handler(req, res));
  let url: string;

  before(async () => {
    url = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends Basic credentials and JSON, and parses the JSON answer', async () => {
    let seen: { auth?: string; type?: string; body: string; path?: string } = { body: '' };
    handler = (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen = { auth: req.headers.authorization, type: req.headers['content-type'], body, path: req.url };
        json(res, 200, { action_uid: 'u1', name: 'change_master', status: 'queued', progress: 0 });
      });
    };
    const client = new BosunClient({ url, credentials: { user: 'a@b.c', password: 'pw' } });
    const run = await client.changeMaster(2);
    client.close();
    assert.equal(run.action_uid, 'u1');
    assert.equal(seen.auth, `Basic ${Buffer.from('a@b.c:pw').toString('base64')}`);
    assert.equal(seen.type, 'application/json');
    assert.deepEqual(JSON.parse(seen.body), { node_uid: '2' });
    assert.equal(seen.path, '/v1/cluster/actions/change_master');
  });

  it("an error answer is an ApiError with the server's error_code and description", async () => {
    handler = (_req, res) =>
      json(res, 404, { error_code: 'node_not_found', description: 'Node 9 does not exist.' });
    const client = new BosunClient({ url });
    const err = await client.changeMaster(9).catch((e: unknown) => e);
    client.close();
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 404);
    assert.equal(err.errorCode, 'node_not_found');
    assert.equal(err.description, 'Node 9 does not exist.');
    assert.equal(err.isAuthError, false);
  });

  it('a non-JSON error answer is still an ApiError; a non-JSON success is a protocol error', async () => {
    const client = new BosunClient({ url });
    handler = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    const e502 = await client.nodes().catch((e: unknown) => e);
    assert.ok(e502 instanceof ApiError);
    assert.equal(e502.errorCode, 'http_502');
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    const eHtml = await client.nodes().catch((e: unknown) => e);
    assert.ok(eHtml instanceof ConnectionError);
    assert.equal(eHtml.failure, 'protocol');
    client.close();
  });

  it('no answer within the timeout is a ConnectionError (timeout)', async () => {
    handler = () => undefined; // never answers
    const client = new BosunClient({ url, timeoutMs: 200 });
    const err = await client.nodes().catch((e: unknown) => e);
    client.close();
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.failure, 'timeout');
  });

  it('a closed port is a ConnectionError (network, ECONNREFUSED)', async () => {
    const client = new BosunClient({ url: `http://127.0.0.1:${await freePort()}` });
    const err = await client.nodes().catch((e: unknown) => e);
    client.close();
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.failure, 'network');
    assert.equal(err.code, 'ECONNREFUSED');
  });

  it('waitForRun: reports every state, retries a 503, and returns the terminal run', async () => {
    const answers: [number, Partial<ActionRun> | { error_code: string; description: string }][] = [
      [200, { status: 'queued', progress: 0 }],
      [200, { status: 'running', progress: 40, phase: 'handing_over' }],
      [503, { error_code: 'store_unavailable', description: 'The cluster store cannot be reached.' }],
      [200, { status: 'completed', progress: 100, phase: 'done' }],
    ];
    let i = 0;
    handler = (req, res) => {
      assert.equal(req.url, '/v1/actions/u1');
      const [status, body] = answers[Math.min(i++, answers.length - 1)]!;
      json(res, status, status === 200 ? { action_uid: 'u1', name: 'change_master', ...body } : body);
    };
    const client = new BosunClient({ url });
    const seen: string[] = [];
    let retries = 0;
    const end = await client.waitForRun('u1', {
      onUpdate: (r) => seen.push(`${r.status} ${r.progress}`),
      onRetry: () => retries++,
    });
    client.close();
    assert.equal(end.status, 'completed');
    assert.deepEqual(seen, ['queued 0', 'running 40', 'completed 100']);
    assert.equal(retries, 1);
  });

  it("reads /v1/actions task entries in RE's string form (and numbers from older servers)", async () => {
    // The real capture in redis-enterprise-rs tests/fixtures/actions_list.json.
    const task = {
      action_uid: 'u2',
      name: 'change_master',
      status: 'completed',
      progress: '100',
      creation_time: '1760400087',
      node_uid: '1',
      task_id: 'u2',
    };
    handler = (req, res) =>
      json(
        res,
        200,
        req.url === '/v1/actions'
          ? { actions: [task, { ...task, progress: 37.5, creation_time: 5 }], 'state-machines': [] }
          : task,
      );
    const client = new BosunClient({ url });
    const one = await client.action('u2');
    const list = await client.actions();
    client.close();
    assert.equal(one.progress, 100);
    assert.equal(one.creation_time, 1760400087);
    assert.equal(one.node_uid, '1');
    assert.ok(!('task_id' in one));
    assert.deepEqual(
      list.map((r) => [r.progress, r.creation_time]),
      [
        [100, 1760400087],
        [37.5, 5],
      ],
    );
  });

  it('waitForRun: an abort stops the waiting with the abort reason', async () => {
    handler = (_req, res) =>
      json(res, 200, { action_uid: 'u1', name: 'change_master', status: 'running', progress: 10 });
    const client = new BosunClient({ url });
    const controller = new AbortController();
    class Stop extends Error {}
    const err = await client
      .waitForRun('u1', { signal: controller.signal, onUpdate: () => controller.abort(new Stop()) })
      .catch((e: unknown) => e);
    client.close();
    assert.ok(err instanceof Stop);
  });
});

describe('client over HTTPS with a self-signed certificate', () => {
  let dir: string;
  let tls: TlsMaterial;
  let other: TlsMaterial;
  let requests = 0;
  const https = createHttpsServer({}, (_req, res) => {
    requests++;
    json(res, 200, { status: 'active', node_uid: 1, master_uid: 1 });
  });
  let url: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-client-tls-'));
    tls = await loadOrCreateCertificate(join(dir, 'a'));
    other = await loadOrCreateCertificate(join(dir, 'b'));
    https.setSecureContext({ key: tls.key, cert: tls.cert });
    url = `https://127.0.0.1:${await listen(https)}`;
  });
  after(async () => {
    https.closeAllConnections();
    https.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses it by default (tls), and tells its fingerprint on request', async () => {
    const client = new BosunClient({ url });
    const err = await client.masterHealthcheck().catch((e: unknown) => e);
    client.close();
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.failure, 'tls');
    assert.equal(await fetchCertificateFingerprint(new URL(url)), tls.fingerprint);
  });

  it('accepts it with insecure, with its pinned fingerprint, or with it as the CA', async () => {
    const before = requests;
    for (const trust of [
      { insecure: true },
      { pinSha256: tls.fingerprint },
      { pinSha256: tls.fingerprint.replace(/:/g, '').toLowerCase() },
      { ca: tls.cert },
    ]) {
      const client = new BosunClient({ url, ...trust });
      const health = await client.masterHealthcheck();
      client.close();
      assert.equal(health.node_uid, 1, JSON.stringify(trust));
    }
    assert.equal(requests, before + 4);
  });

  it('a pin mismatch fails before any request byte reaches the server', async () => {
    let received = 0;
    const raw = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => {
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.on('error', () => undefined);
    });
    const port = await listen(raw);
    const client = new BosunClient({
      url: `https://127.0.0.1:${port}`,
      pinSha256: other.fingerprint,
      credentials: { user: 'admin@x', password: 'secret' },
    });
    const err = await client.masterHealthcheck().catch((e: unknown) => e);
    client.close();
    await new Promise((r) => setTimeout(r, 50));
    raw.close();
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.failure, 'tls');
    assert.match(err.message, /does not match the pinned fingerprint/);
    assert.equal(received, 0, 'no byte of the request (credentials included) was sent');
  });
});

describe('client helpers', () => {
  it('parseBaseUrl: http by default, a path prefix kept, other schemes refused', () => {
    assert.equal(parseBaseUrl('127.0.0.1:8080').href, 'http://127.0.0.1:8080/');
    assert.equal(parseBaseUrl('https://h:9443/api').href, 'https://h:9443/api/');
    assert.throws(() => parseBaseUrl('ftp://h'), TypeError);
    assert.throws(() => parseBaseUrl('http://h/?x=1'), TypeError);
  });

  it('normalizeFingerprint: any case, with or without colons, openssl output accepted', () => {
    const fp = 'AB:'.repeat(31) + 'AB';
    assert.equal(normalizeFingerprint(fp.toLowerCase()), fp);
    assert.equal(normalizeFingerprint(fp.replace(/:/g, '')), fp);
    assert.equal(normalizeFingerprint(`sha256 Fingerprint=${fp}`), fp);
    assert.equal(normalizeFingerprint('AB:CD'), undefined);
  });
});
