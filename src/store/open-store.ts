/**
 * Opens a store from one URL, so configuration and command lines carry a single string:
 * - `sqlite:/path/to/file.db`, `sqlite:relative.db`, `sqlite:///abs/file.db`, or a bare path;
 * - `etcd://host:port[,host:port...][?prefix=/name]` (`etcds://` for TLS), where `prefix` is a namespace prepended to every
 *   key (so one etcd can hold several clusters).
 *
 * Backends are loaded on demand: a node on the embedded store never pays for etcd3's gRPC start-up,
 * and one on etcd never loads the native SQLite module.
 */
import { resolve } from 'node:path';

import { InvalidRequestError } from './errors.js';
import type { EtcdTlsOptions } from './etcd/etcd-store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** etcd: the deadline of each call, in ms. */
  readonly callTimeoutMs?: number;
  /** etcd: the smallest lease TTL the members honour, in ms (see EtcdStoreOptions). */
  readonly minLeaseTtlMs?: number;
  /** sqlite: how often to look for other processes' writes, in ms. */
  readonly pollIntervalMs?: number;
  /** etcd: TLS material; `etcds://` URLs need it unless the members' CA is a system root. */
  readonly tls?: EtcdTlsOptions;
  /** etcd: user and password, when the members have authentication enabled. */
  readonly auth?: { readonly username: string; readonly password: string };
}

export type StoreLocation =
  | { readonly backend: 'sqlite'; readonly path: string }
  | {
      readonly backend: 'etcd';
      readonly endpoints: string[];
      readonly namespace: string | undefined;
      readonly tls: boolean;
    };

/** Parses a store URL without opening anything. */
export function parseStoreUrl(url: string): StoreLocation {
  const trimmed = url.trim();
  if (trimmed.startsWith('etcd://') || trimmed.startsWith('etcds://')) return parseEtcd(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !trimmed.startsWith('sqlite:')) {
    throw new InvalidRequestError(`unknown store URL scheme in ${url} (expected sqlite: or etcd://)`);
  }
  let path = trimmed.startsWith('sqlite:') ? trimmed.slice('sqlite:'.length) : trimmed;
  // sqlite:///abs and sqlite://relative follow the usual URL spellings.
  if (path.startsWith('//')) path = path.slice(2);
  if (path.length === 0) throw new InvalidRequestError(`no database path in ${url}`);
  return { backend: 'sqlite', path: resolve(path) };
}

function parseEtcd(url: string): StoreLocation {
  const tls = url.startsWith('etcds://');
  const rest = url.slice(tls ? 'etcds://'.length : 'etcd://'.length);
  const q = rest.indexOf('?');
  const hostPart = q < 0 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const endpoints = hostPart
    .split(',')
    .map((h) => h.trim().replace(/\/+$/, ''))
    .filter((h) => h.length > 0);
  if (endpoints.length === 0) throw new InvalidRequestError(`no etcd endpoints in ${url}`);
  for (const e of endpoints) {
    if (!/^[^:/\s]+:\d+$/.test(e) && !/^\[[0-9a-f:]+\]:\d+$/i.test(e)) {
      throw new InvalidRequestError(`etcd endpoint ${e} in ${url} is not host:port`);
    }
  }
  for (const name of params.keys()) {
    if (name !== 'prefix') throw new InvalidRequestError(`unknown etcd URL parameter ${name} in ${url}`);
  }
  const prefix = params.get('prefix') ?? undefined;
  return { backend: 'etcd', endpoints, namespace: prefix === '' ? undefined : prefix, tls };
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  if (location.backend === 'etcd') {
    const { EtcdStore } = await import('./etcd/etcd-store.js');
    return new EtcdStore({
      endpoints: location.endpoints,
      namespace: location.namespace,
      callTimeoutMs: options.callTimeoutMs,
      minLeaseTtlMs: options.minLeaseTtlMs,
      ...(location.tls || options.tls ? { tls: options.tls ?? {} } : {}),
      ...(options.auth ? { auth: options.auth } : {}),
    });
  }
  const { SqliteStore } = await import('./sqlite/sqlite-store.js');
  return new SqliteStore({ path: location.path, pollIntervalMs: options.pollIntervalMs });
}
