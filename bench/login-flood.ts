/**
 * Login flood (issue 14, finding 7): while one node is flooded with wrong passwords, how fast does
 * it answer requests that carry a token or credentials it verified recently?
 *
 * - One `bosun node` process on SQLite, with the per-client failed-login limit off
 *   (`BOSUN_LOGIN_FAILURE_LIMIT=0`): the flood stands for many clients, and the limit would turn it
 *   into cheap 429s before the password gate is ever reached.
 * - The flood: autocannon in its own process (bench/lib/flood-child.ts), `floodConnections`
 *   connections sending `GET /v1/cluster` with Basic credentials of an unknown email and a new wrong
 *   password each time (each costs a full scrypt check: unknown emails are checked against a dummy
 *   hash, and are never locked out).
 * - The probes, from this process: `GET /v1/cluster` with `Authorization: JWT <token>`, and with the
 *   admin's Basic credentials verified once before (cached), `probeConnections` each, at the same time.
 * - First the probes alone (quiet), then under the flood; latency of every probe response.
 * - With `BOSUN_BENCH_BASELINE_BIN` set to another build's `bin/bosun.js` (the commit before the
 *   fix, checked out and built elsewhere), the same run on it first: before and after, side by side.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth } from '../test/helpers/in-process-node.js';
import { ProcessCluster } from '../test/helpers/process-cluster.js';
import { sleep } from './lib/cluster.js';
import { load, type LoadResult } from './lib/load.js';

export interface LoginFloodSettings {
  readonly durationS: number;
  readonly floodConnections: number;
  readonly probeConnections: number;
}

export interface FloodPhase {
  readonly jwt: LoadResult;
  readonly basicCached: LoadResult;
  /** The flood's own answers during the phase, by status (absent for the quiet phase). */
  readonly flood?: { readonly statusCounts: Record<string, number>; readonly rps: number };
}

export interface LoginFloodVariant {
  readonly variant: 'baseline' | 'current';
  readonly bin?: string;
  readonly quiet: FloodPhase;
  readonly flooded: FloodPhase;
}

export interface LoginFloodResult {
  readonly variants: LoginFloodVariant[];
}

const floodScript = fileURLToPath(new URL('./lib/flood-child.js', import.meta.url));

async function probes(url: string, token: string, s: LoginFloodSettings): Promise<[LoadResult, LoadResult]> {
  return Promise.all([
    load({
      url,
      connections: s.probeConnections,
      durationS: s.durationS,
      headers: { authorization: `JWT ${token}` },
    }),
    load({
      url,
      connections: s.probeConnections,
      durationS: s.durationS,
      headers: { authorization: adminAuth },
    }),
  ]);
}

async function runVariant(
  variant: 'baseline' | 'current',
  bin: string | undefined,
  s: LoginFloodSettings,
  log: (line: string) => void,
): Promise<LoginFloodVariant> {
  const cluster = await ProcessCluster.start({
    nodes: 1,
    env: { BOSUN_LOGIN_FAILURE_LIMIT: '0' },
    ...(bin ? { bin } : {}),
  });
  try {
    const node = cluster.nodes[0]!;
    const url = `${node.url}/v1/cluster`;
    const auth = await node.request<{ access_token: string }>('POST', '/v1/users/authorize', {
      username: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
      ttl: 3600,
    });
    if (auth.status !== 200) throw new Error(`authorize answered ${auth.status}`);
    const token = auth.body.access_token;
    // Verified once: from here on the admin's Basic credentials are a cache hit.
    await node.get('/v1/cluster');

    log(`login-flood ${variant}: quiet probes`);
    const [qJwt, qBasic] = await probes(url, token, s);

    log(`login-flood ${variant}: flood of ${s.floodConnections} connections, probes alongside`);
    const child = fork(floodScript, [
      JSON.stringify({
        url,
        connections: s.floodConnections,
        durationS: s.durationS + 30,
        headers: {},
        login: 'flood@nowhere.test',
      }),
    ]);
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    await sleep(1000); // the flood reaches its steady state
    const [fJwt, fBasic] = await probes(url, token, s);
    const done = new Promise<{ statusCounts: Record<string, number>; responses: number; durationS: number }>(
      (resolve) => child.on('message', (m: { type: string }) => m.type === 'done' && resolve(m as never)),
    );
    child.send({ type: 'stop' });
    const flood = await done;
    return {
      variant,
      ...(bin ? { bin } : {}),
      quiet: { jwt: qJwt, basicCached: qBasic },
      flooded: {
        jwt: fJwt,
        basicCached: fBasic,
        flood: { statusCounts: flood.statusCounts, rps: Math.round(flood.responses / flood.durationS) },
      },
    };
  } finally {
    await cluster.destroy();
  }
}

export async function runLoginFlood(
  s: LoginFloodSettings,
  log: (line: string) => void,
): Promise<LoginFloodResult> {
  const variants: LoginFloodVariant[] = [];
  const baseline = process.env.BOSUN_BENCH_BASELINE_BIN;
  if (baseline) variants.push(await runVariant('baseline', baseline, s, log));
  variants.push(await runVariant('current', undefined, s, log));
  return { variants };
}
