/**
 * The dashboard (ui/, built into dist/ui/ by scripts/build-ui.mjs): `/` and `/ui` redirect to `/ui/`,
 * which serves index.html; `/ui/<file>` serves the few built files. Public, like the API's own
 * documentation: the files hold no data, and every call the page makes is authenticated as usual.
 *
 * Every answer carries the page's security headers: a Content-Security-Policy that allows scripts,
 * styles and images from this node only, no inline code, and connections to the cluster's own nodes
 * only (cluster-origins.ts); `frame-ancestors 'none'` and `X-Frame-Options: DENY` against framing;
 * `nosniff`; no referrer. Files are read once, with their gzip twins, and revalidated by ETag.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { BosunError } from '../../errors/catalogue.js';
import { clusterOrigins } from '../cluster-origins.js';
import type { ClusterReadModel } from '../../cluster/cluster-read-model.js';

export const UI_PREFIX = '/ui/';
/** The built files, relative to this compiled file (dist/src/api/routes/ → dist/ui/). */
const UI_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

interface UiFile {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly etag: string;
}

function loadFiles(): Map<string, UiFile> {
  const files = new Map<string, UiFile>();
  for (const [name, type] of Object.entries(TYPES)) {
    const path = UI_DIR + name;
    if (!existsSync(path)) continue;
    const body = readFileSync(path);
    const gzip = existsSync(`${path}.gz`) ? readFileSync(`${path}.gz`) : undefined;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(name, { type, body, gzip, etag });
  }
  return files;
}

/** The page's Content-Security-Policy: this node for code, the cluster's nodes for connections. */
export function contentSecurityPolicy(origins: Iterable<string>): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${[...origins].join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface UiRoutesOptions {
  /** The cluster's nodes: the page may connect to them only (cluster-origins.ts). */
  readonly cluster: Pick<ClusterReadModel, 'members'>;
}

export const uiRoutes: FastifyPluginAsyncTypebox<UiRoutesOptions> = async (app, { cluster }) => {
  const files = loadFiles();
  const secure = (reply: FastifyReply): FastifyReply =>
    reply
      .header('content-security-policy', contentSecurityPolicy(clusterOrigins(cluster.members())))
      .header('x-frame-options', 'DENY')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin');

  const serve = (name: string, request: FastifyRequest, reply: FastifyReply) => {
    const file = files.get(name);
    if (!file) throw new BosunError('not_found', `The dashboard has no file ${name}.`);
    secure(reply)
      .header('content-type', file.type)
      .header('cache-control', 'no-cache')
      .header('etag', file.etag)
      .header('vary', 'Accept-Encoding');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    const gzip = file.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (gzip) void reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? file.gzip : file.body);
  };

  const redirect = { schema: { hide: true }, config: { local: true } };
  app.get('/', redirect, async (_request, reply) => secure(reply).redirect(UI_PREFIX, 302));
  app.get('/ui', redirect, async (_request, reply) => secure(reply).redirect(UI_PREFIX, 302));
  app.get(UI_PREFIX, redirect, async (request, reply) => serve('index.html', request, reply));
  app.get(
    `${UI_PREFIX}:file`,
    { ...redirect, schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 64 }) }) } },
    async (request, reply) => serve(request.params.file, request, reply),
  );
};
