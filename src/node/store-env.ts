/**
 * etcd connection settings from the environment, so secrets stay out of command lines and store URLs:
 * - BOSUN_ETCD_CA_FILE, BOSUN_ETCD_CERT_FILE, BOSUN_ETCD_KEY_FILE: PEM files for TLS (any of them
 *   turns TLS on; `etcds://` URLs turn it on too, trusting the system's CAs by default);
 * - BOSUN_ETCD_USER and BOSUN_ETCD_PASSWORD: etcd's own authentication.
 */
import { readFileSync } from 'node:fs';

import type { OpenStoreOptions } from '../store/open-store.js';

export function storeOptionsFromEnv(env: NodeJS.ProcessEnv): OpenStoreOptions {
  const file = (name: string): Buffer | undefined => {
    const path = env[name];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${name}=${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const ca = file('BOSUN_ETCD_CA_FILE');
  const cert = file('BOSUN_ETCD_CERT_FILE');
  const key = file('BOSUN_ETCD_KEY_FILE');
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error('BOSUN_ETCD_CERT_FILE and BOSUN_ETCD_KEY_FILE go together');
  }
  const username = env.BOSUN_ETCD_USER;
  if (env.BOSUN_ETCD_PASSWORD !== undefined && !username)
    throw new Error('BOSUN_ETCD_PASSWORD needs BOSUN_ETCD_USER');
  return {
    ...(ca || cert ? { tls: { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) } } : {}),
    ...(username ? { auth: { username, password: env.BOSUN_ETCD_PASSWORD ?? '' } } : {}),
  };
}
