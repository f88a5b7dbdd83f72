/**
 * First-start set-up of a cluster, idempotent and safe to race: the cluster identity, the JWT secret
 * and the first admin user are each created only if absent, in compare-and-swap transactions. Every
 * node runs it at start; only the first one to get there writes anything.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import type { ClusterConfig, ClusterKeys } from '../cluster/keys.js';
import { putRecord } from '../store/typed-key.js';
import type { Store } from '../store/types.js';
import { hashPassword } from '../users/passwords.js';
import { userKey, type UserRecord } from '../users/user-records.js';

export interface AdminCredentials {
  readonly email: string;
  /** Undefined means: generate one if an admin has to be created. */
  readonly password: string | undefined;
}

export interface BootstrapResult {
  /** Set when this call created the first admin. */
  readonly createdAdmin?: { readonly email: string; readonly password: string; readonly generated: boolean };
}

export async function bootstrapCluster(
  store: Store,
  keys: ClusterKeys,
  admin: AdminCredentials,
): Promise<BootstrapResult> {
  const config: ClusterConfig = {
    name: 'bosun.local',
    uid: randomUUID(),
    created_time: Math.floor(Date.now() / 1000),
  };
  await store.txn({
    compare: [{ key: keys.config.key, target: 'create', op: '=', value: 0 }],
    success: [putRecord(keys.config, config)],
  });
  await store.txn({
    compare: [{ key: keys.jwtSecret, target: 'create', op: '=', value: 0 }],
    success: [{ type: 'put', key: keys.jwtSecret, value: randomBytes(32).toString('base64') }],
  });

  if ((await store.get(keys.userSeq)) !== undefined) return {};
  const generated = admin.password === undefined;
  const password = admin.password ?? randomBytes(12).toString('base64url');
  const user: UserRecord = {
    uid: 1,
    email: admin.email,
    name: 'Administrator',
    role: 'admin',
    password_hash: await hashPassword(password),
    auth_method: 'regular',
    password_issue_date: new Date().toISOString(),
    email_alerts: true,
    status: 'active',
  };
  const result = await store.txn({
    compare: [{ key: keys.userSeq, target: 'create', op: '=', value: 0 }],
    success: [
      { type: 'put', key: keys.userSeq, value: '1' },
      putRecord(userKey(keys, 1), user),
      { type: 'put', key: keys.userEmail(admin.email), value: '1' },
      { type: 'put', key: keys.userName(user.name), value: '1' },
    ],
  });
  return result.succeeded ? { createdAdmin: { email: admin.email, password, generated } } : {};
}
