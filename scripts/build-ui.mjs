#!/usr/bin/env node
// Builds the dashboard (ui/) into dist/ui/ after `tsc`: esbuild bundles ui/src/main.ts with Preact and
// htm into one minified app.js; index.html and app.css are copied; each file also gets a gzip twin, so
// a node serves compressed bytes without compressing per request (src/api/routes/ui.ts). Runs inside
// `npm run build`, so `npm ci` (prepare) and `npm start` build it; nothing is built by hand.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist', 'ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(root, 'ui', 'src', 'main.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const files = {
  'app.js': result.outputFiles[0].contents,
  'index.html': readFileSync(join(root, 'ui', 'index.html')),
  'app.css': readFileSync(join(root, 'ui', 'app.css')),
};
for (const [name, bytes] of Object.entries(files)) {
  writeFileSync(join(out, name), bytes);
  writeFileSync(join(out, `${name}.gz`), gzipSync(bytes, { level: 9 }));
}
