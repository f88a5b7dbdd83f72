/**
 * A node on an etcd that requires TLS and authentication, the way a multi-machine deployment runs:
 * a real etcd member with a certificate and `auth enable`, and the node's settings from the
 * environment (BOSUN_ETCD_CA_FILE, BOSUN_ETCD_USER, BOSUN_ETCD_PASSWORD).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import selfsigned from 'selfsigned';

import { BosunNode } from '../../src/node/node.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth } from '../helpers/in-process-node.js';
import { freePort } from '../helpers/ports.js';
import { eventually } from '../helpers/process-cluster.js';

describe('etcd with TLS and authentication', { timeout: 120_000 }, () => {
  let dir: string;
  let etcd: ChildProcess;
  let clientPort: number;
  let caFile: string;
  const saved = { ...process.env };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-etcd-tls-'));
    const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    caFile = join(dir, 'cert.pem');
    await writeFile(caFile, pems.cert);
    await writeFile(join(dir, 'key.pem'), pems.private);
    clientPort = await freePort();
    const peerPort = await freePort();
    etcd = spawn(
      'etcd',
      [
        '--name=secure',
        `--data-dir=${join(dir, 'data')}`,
        `--listen-client-urls=https://127.0.0.1:${clientPort}`,
        `--advertise-client-urls=https://127.0.0.1:${clientPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=secure=http://127.0.0.1:${peerPort}`,
        `--cert-file=${caFile}`,
        `--key-file=${join(dir, 'key.pem')}`,
        '--grpc-keepalive-min-time=1s',
        '--unsafe-no-fsync',
      ],
      { stdio: 'ignore' },
    );
    // Create root and turn authentication on, over TLS.
    const admin = new Etcd3({
      hosts: `https://127.0.0.1:${clientPort}`,
      credentials: { rootCertificate: Buffer.from(pems.cert) },
    });
    await eventually(
      async () => ((await admin.maintenance.status()).version ? true : undefined),
      30_000,
      'etcd over TLS',
    );
    await admin.user('root').create('root-password');
    await admin.user('root').addRole('root');
    // docs/deploy.md's least privilege: a role that may read and write one cluster's prefix only.
    await admin.role('bosun').create();
    await admin.role('bosun').grant({ permission: 'Readwrite', range: admin.range({ prefix: '/limited/' }) });
    await admin.user('bosun').create('bosun-password');
    await admin.user('bosun').addRole('bosun');
    await admin.auth.authEnable();
    admin.close();
  });

  after(async () => {
    process.env = saved;
    etcd?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** By default on the store URL's namespace `/secure`; with `clusterPrefix`, on that key prefix as docs/deploy.md sets it. */
  async function startNode(password: string, user = 'root', clusterPrefix?: string): Promise<BosunNode> {
    process.env.BOSUN_ETCD_CA_FILE = caFile;
    process.env.BOSUN_ETCD_USER = user;
    process.env.BOSUN_ETCD_PASSWORD = password;
    const node = new BosunNode({
      uid: 1,
      dataDir: join(dir, 'node'),
      store: clusterPrefix
        ? `etcds://127.0.0.1:${clientPort}`
        : `etcds://127.0.0.1:${clientPort}?prefix=/secure`,
      prefix: clusterPrefix,
      host: '127.0.0.1',
      httpPort: 0,
      httpsPort: 0,
      leaseTtlMs: 2000,
      adminEmail: ADMIN_EMAIL,
      adminPassword: ADMIN_PASSWORD,
      log: pino({ level: 'silent' }),
    });
    return node;
  }

  it('runs a node over TLS with etcd authentication', async () => {
    const node = await startNode('root-password');
    try {
      await node.start();
      await eventually(() => (node.isMaster ? true : undefined));
      const res = await node.app.inject({
        method: 'POST',
        url: '/v1/cluster/actions/change_master',
        headers: { authorization: adminAuth },
        payload: { node_uid: 1 },
      });
      assert.equal(res.statusCode, 200);
    } finally {
      await node.stop();
    }
  });

  it('refuses to start with a wrong etcd password, saying why', async () => {
    const node = await startNode('wrong-password');
    await assert.rejects(node.start(), /auth|password|permission|credential/i);
    await node.stop().catch(() => undefined);
  });

  it('runs a node as a user that may use its own prefix only', async () => {
    const node = await startNode('bosun-password', 'bosun', '/limited/');
    try {
      await node.start();
      await eventually(() => (node.isMaster ? true : undefined));
      const res = await node.app.inject({
        method: 'POST',
        url: '/v1/cluster/actions/change_master',
        headers: { authorization: adminAuth },
        payload: { node_uid: 1 },
      });
      assert.equal(res.statusCode, 200);
    } finally {
      await node.stop();
    }
  });

  it('refuses to start as that user on a prefix it was not granted', async () => {
    const node = await startNode('bosun-password', 'bosun', '/elsewhere/');
    await assert.rejects(node.start(), /permission/i);
    await node.stop().catch(() => undefined);
  });
});
