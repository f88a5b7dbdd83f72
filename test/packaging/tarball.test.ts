/**
 * The installable package, tested from the tarball and not from the source tree: `npm pack` runs in a
 * copy of the sources (so `prepare` builds dist/ there, as it does for a release), the tarball is
 * unpacked into a temp prefix laid out like `npm install -g`'s, its runtime dependencies are installed
 * offline from the npm cache that `npm ci` filled, and a node started from it serves the API.
 *
 * Two shortcuts keep this fast and off the network, and neither changes what is tested:
 * - dependencies come from `npm ci --omit=dev` with the repository's lockfile (an offline install of a
 *   tarball by name would need registry metadata that `npm ci` never caches);
 * - better-sqlite3's native binary is copied from the clone's node_modules instead of compiled again
 *   (about two minutes), after checking it is the same better-sqlite3 version for the same Node; CI's
 *   `npm ci` on each Node line is what proves it compiles.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { freePort } from '../helpers/ports.js';
import { eventually } from '../helpers/process-cluster.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const COMMIT = 'c0ffee123456';
const ADMIN = { email: 'ops@example.com', password: 'tarball-test-secret' };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const work = mkdtempSync(join(tmpdir(), 'bosun-tarball-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'lib', 'node_modules', 'bosun');
const bosunBin = join(prefix, 'bin', 'bosun');
let tarball = '';
let node: ChildProcess | undefined;

/** Runs the installed `bosun` from a folder outside the clone, with nothing inherited that points back. */
async function bosun(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [bosunBin, ...args], {
    cwd: work,
    env: { PATH: process.env.PATH, HOME: work, ...env },
    timeout: 60_000,
  });
}

before(async () => {
  // The sources a release is packed from; node_modules is shared only for `tsc` at pack time.
  const src = join(work, 'src');
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'CHANGELOG.md']) {
    cpSync(join(repo, entry), join(src, entry));
  }
  for (const dir of ['bin', 'src', 'scripts', 'packaging', 'docs', 'ui']) {
    cpSync(join(repo, dir), join(src, dir), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'), 'dir');
  const packed = await run(npm, ['pack', '--json', '--pack-destination', work], {
    cwd: src,
    env: { ...process.env, BOSUN_BUILD_COMMIT: COMMIT },
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  // Lifecycle scripts print before the JSON.
  const json = packed.stdout.slice(packed.stdout.indexOf('\n[') + 1);
  tarball = join(work, (JSON.parse(json) as { filename: string }[])[0]!.filename);

  mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  copyFileSync(join(repo, 'package-lock.json'), join(installed, 'package-lock.json'));
  try {
    await run(npm, ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: installed,
      timeout: 240_000,
    });
  } catch (err) {
    throw new Error(
      `installing the tarball's dependencies offline failed; run \`npm ci\` first to fill the npm cache (${String(err)})`,
    );
  }
  const sqliteVersion = (dir: string): string =>
    (
      JSON.parse(readFileSync(join(dir, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  assert.equal(sqliteVersion(installed), sqliteVersion(repo), 'the same better-sqlite3 as the clone');
  const binary = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(join(installed, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
  copyFileSync(join(repo, binary), join(installed, binary));
  mkdirSync(join(prefix, 'bin'));
  symlinkSync(join('..', 'lib', 'node_modules', 'bosun', 'bin', 'bosun.js'), bosunBin);
});

after(async () => {
  if (node && node.exitCode === null) {
    node.kill('SIGKILL');
    await new Promise((resolve) => node?.once('exit', resolve));
  }
  rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds what runs and nothing else: no sources, tests, benchmarks or source maps', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    for (const f of files) {
      assert.match(
        f,
        /^(bin\/bosun\.js|dist\/build-info\.json|dist\/src\/.+\.js|dist\/ui\/(index\.html|app\.js|app\.css)(\.gz)?|packaging\/.+|docs\/deploy\.md|CHANGELOG\.md|README\.md|package\.json)$/,
        `unexpected file in the tarball: ${f}`,
      );
    }
    for (const needed of [
      'bin/bosun.js',
      'dist/src/cli/main.js',
      'dist/src/node/node.js',
      'packaging/systemd/bosun@.service',
      'dist/ui/index.html',
      'dist/ui/app.js',
    ]) {
      assert.ok(files.includes(needed), `${needed} is in the tarball`);
    }
  });

  it('`bosun --version` names the version and the commit it was packed from', async () => {
    const { stdout } = await bosun(['--version']);
    assert.equal(stdout.trim(), `bosun ${version} (commit ${COMMIT})`);
  });

  it('`bosun --version` says the commit is unknown when the build did not record it', async () => {
    const info = join(installed, 'dist', 'build-info.json');
    const saved = readFileSync(info);
    rmSync(info);
    try {
      const { stdout } = await bosun(['--version']);
      assert.equal(stdout.trim(), `bosun ${version} (commit unknown)`);
    } finally {
      writeFileSync(info, saved);
    }
  });

  it('starts a node that elects itself, serves the API and can be backed up', async () => {
    const httpPort = await freePort();
    const httpsPort = await freePort();
    const data = join(work, 'data');
    node = spawn(process.execPath, [bosunBin, 'node', '--uid', '1', '--data-dir', data], {
      cwd: work,
      env: {
        PATH: process.env.PATH,
        HOME: work,
        BOSUN_HTTP_PORT: String(httpPort),
        BOSUN_HTTPS_PORT: String(httpsPort),
        BOSUN_ADMIN_EMAIL: ADMIN.email,
        BOSUN_ADMIN_PASSWORD: ADMIN.password,
        BOSUN_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const auth = `Basic ${Buffer.from(`${ADMIN.email}:${ADMIN.password}`).toString('base64')}`;
    const status = await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/v1/nodes/status`, {
          headers: { authorization: auth },
        });
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as Record<string, { role: string }>;
        return body['1']?.role === 'master' ? body : undefined;
      },
      30_000,
      'the installed node to serve and become master',
    );
    assert.equal(status['1']?.role, 'master');

    // The dashboard, from the package's own files.
    const page = await fetch(`http://127.0.0.1:${httpPort}/ui/app.js`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers.get('content-security-policy')), /script-src 'self'/);

    // The installed command line talks to it, and reports the version the node runs.
    const cli = await bosun(['status', '-o', 'json'], {
      BOSUN_URL: `http://127.0.0.1:${httpPort}`,
      BOSUN_USER: ADMIN.email,
      BOSUN_PASSWORD: ADMIN.password,
    });
    const parsed = JSON.parse(cli.stdout) as { master_uid: string; nodes: { software_version: string }[] };
    assert.equal(String(parsed.master_uid), '1');
    assert.equal(parsed.nodes[0]?.software_version, version);

    // An online backup of the running node's store, with the installed better-sqlite3.
    const backup = join(work, 'backup.db');
    const out = await bosun(['backup', backup, '--data-dir', data]);
    assert.match(out.stdout, /^Backed up .*bosun\.db to .*backup\.db: revision \d+, \d+ keys, \d+ bytes\n$/);
    assert.ok(existsSync(backup));

    const exited = new Promise<number | null>((resolve) => node?.once('exit', (code) => resolve(code)));
    node.kill('SIGTERM');
    assert.equal(await exited, 0, 'the node stops cleanly on SIGTERM');
  });
});
