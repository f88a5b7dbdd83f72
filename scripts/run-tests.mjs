#!/usr/bin/env node
// Runs every compiled test file with Node's test runner, after making sure etcd is installed:
// the etcd legs of the suite are never skipped silently.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function hasEtcd() {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

function ensureEtcd() {
  if (hasEtcd()) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    console.log('etcd not found: installing Debian etcd-server with apt-get ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'etcd-server'], { stdio: 'inherit', env });
  }
  if (!hasEtcd()) {
    console.error(
      'The tests need etcd 3.4 or later on PATH (the etcd legs are never skipped).\n' +
        'Install it with:  sudo apt-get install etcd-server   (Debian/Ubuntu), or put an etcd binary on PATH.',
    );
    process.exit(1);
  }
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out.sort();
}

// The dashboard's browser tests (test/ui) need Debian's Chromium (test/helpers/browser.ts).
function ensureChromium() {
  const bin = process.env.BOSUN_CHROMIUM ?? '/usr/bin/chromium';
  if (existsSync(bin)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt && bin === '/usr/bin/chromium') {
    console.log('chromium not found: installing Debian chromium with apt-get ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  }
  if (!existsSync(bin)) {
    console.error(
      'The dashboard tests need Chromium (the browser tests are never skipped).\n' +
        'Install it with:  sudo apt-get install chromium   (Debian/Ubuntu), or set BOSUN_CHROMIUM.',
    );
    process.exit(1);
  }
}

ensureEtcd();
const filter = process.argv.slice(2);
let files = findTests('dist/test');
if (filter.length > 0) files = files.filter((f) => filter.some((pattern) => f.includes(pattern)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
if (files.some((f) => f.includes('/ui/'))) ensureChromium();
// One file at a time: the integration files start real clusters, and a 2-core machine shared by two
// of them turns lease deadlines into flakes.
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
