/**
 * The systemd unit in packaging/systemd/: hardened as docs/deploy.md says, checked by systemd's own
 * tools where they are installed, and its example environment file names only variables the node
 * reads.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const unitText = readFileSync(join(repo, 'packaging', 'systemd', 'bosun@.service'), 'utf8');
const envText = readFileSync(join(repo, 'packaging', 'systemd', 'bosun.env.example'), 'utf8');
const hasAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
const work = mkdtempSync(join(tmpdir(), 'bosun-unit-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Every `Key=value` line of the [Service] section (comments and other sections left out). */
function serviceSettings(): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    if (section !== '[Service]' || line.startsWith('#') || !line.includes('=')) continue;
    const [key, ...rest] = line.split('=');
    settings.set(key!, [...(settings.get(key!) ?? []), rest.join('=')]);
  }
  return settings;
}

/** A copy of the unit as instance 1, running this clone's bin/bosun.js, for systemd-analyze. */
function instanceForAnalysis(): string {
  const path = join(work, 'bosun@1.service');
  writeFileSync(path, unitText.replace('/usr/local/bin/bosun', join(repo, 'bin', 'bosun.js')));
  return path;
}

describe('the systemd unit', () => {
  it('runs `bosun node` for the instance uid, on its state directory, as its own user, hardened', () => {
    const s = serviceSettings();
    const one = (key: string): string | undefined => s.get(key)?.[0];
    assert.equal(one('ExecStart'), '/usr/local/bin/bosun node --uid %i --data-dir /var/lib/bosun');
    assert.equal(one('StateDirectory'), 'bosun', 'the data folder is the state directory');
    assert.equal(one('DynamicUser'), 'yes');
    assert.equal(one('User'), 'bosun');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.deepEqual(s.get('EnvironmentFile'), ['/etc/bosun/bosun.env', '-/etc/bosun/node-%i.env']);
    for (const key of [
      'ProtectHome',
      'PrivateTmp',
      'PrivateDevices',
      'RestrictSUIDSGID',
      'LockPersonality',
    ]) {
      assert.equal(one(key), 'yes', key);
    }
  });

  it('names in its example environment file only variables `bosun node` reads', async () => {
    const help = (await run(process.execPath, [join(repo, 'bin', 'bosun.js'), 'node', '--help'])).stdout;
    const names = [...envText.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
    assert.ok(names.length >= 10);
    for (const name of names) assert.ok(help.includes(name), `${name} is documented by bosun node --help`);
  });

  it(
    'passes systemd-analyze verify, and its exposure score stays low',
    { skip: !hasAnalyze && 'systemd-analyze is not installed' },
    async () => {
      const unit = instanceForAnalysis();
      // verify exits non-zero on any problem it finds, and prints it on stderr.
      const verified = await run('systemd-analyze', ['verify', unit], { cwd: work }).catch((err: unknown) =>
        assert.fail(`systemd-analyze verify: ${err instanceof Error ? err.message : 'failed'}`),
      );
      assert.equal(verified.stderr.trim(), '');
      const security = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit], {
        cwd: work,
      });
      const score = /Overall exposure level for .*: ([0-9.]+)/.exec(security.stdout);
      assert.ok(score, security.stdout);
      // 0 is a fully locked-down service and 10 an unprotected one; a Node server with the network needs some.
      assert.ok(Number(score[1]) <= 2, `exposure ${score[1]}`);
    },
  );
});
