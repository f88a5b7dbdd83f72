/**
 * A real Bosun node in the test process, on a fresh SQLite file in a temp folder, listening on
 * ephemeral ports. API tests drive it with `node.app.inject()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino, type Logger } from 'pino';

import type { HandlerRegistry } from '../../src/actions/registry.js';
import type { RetentionSettings } from '../../src/actions/retention.js';
import type { AuthenticatorOptions } from '../../src/api/auth/authenticator.js';
import type { ListenerLimits } from '../../src/api/limits.js';
import { BosunNode } from '../../src/node/node.js';

export const ADMIN_EMAIL = 'admin@test.local';
export const ADMIN_PASSWORD = 'admin-password-1';

export function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
}

export const adminAuth = basic(ADMIN_EMAIL, ADMIN_PASSWORD);

export interface TestNode {
  readonly node: BosunNode;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export async function startTestNode(
  options: {
    uid?: number;
    dataDir?: string;
    registry?: HandlerRegistry;
    leaseTtlMs?: number;
    auth?: AuthenticatorOptions;
    /** (Default: silent, or BOSUN_TEST_LOG's level) */
    log?: Logger;
    metricsAuth?: boolean;
    eventRetention?: number;
    listenerLimits?: Partial<ListenerLimits>;
    retention?: Partial<RetentionSettings>;
    idempotencyTtlMs?: number;
  } = {},
): Promise<TestNode> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'bosun-test-')));
  const node = new BosunNode({
    uid: options.uid ?? 1,
    dataDir,
    host: '127.0.0.1',
    httpPort: 0,
    httpsPort: 0,
    leaseTtlMs: options.leaseTtlMs ?? 1000,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    log: options.log ?? pino({ level: process.env.BOSUN_TEST_LOG ?? 'silent' }),
    registry: options.registry,
    auth: options.auth,
    metricsAuth: options.metricsAuth,
    eventRetention: options.eventRetention,
    listenerLimits: options.listenerLimits,
    retention: options.retention,
    idempotencyTtlMs: options.idempotencyTtlMs,
  });
  await node.start();
  // The single node elects itself; tests start once it is master.
  for (let i = 0; i < 200 && !node.isMaster; i++) await new Promise((r) => setTimeout(r, 10));
  return {
    node,
    dataDir,
    stop: async () => {
      await node.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
