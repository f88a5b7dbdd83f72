#!/usr/bin/env node
// Writes dist/build-info.json after `tsc`: the commit the build was made from, so `bosun --version`
// names it in a clone and in an installed package alike (the tarball carries no .git). A build from
// an export of the sources can name its commit with BOSUN_BUILD_COMMIT. Otherwise, outside a git
// checkout of this package or without git, the commit is recorded as unknown: never an error.
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function git(...args) {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/** The commit and whether tracked files differ from it, or a null commit when it is not known. */
function source() {
  const given = process.env.BOSUN_BUILD_COMMIT ?? '';
  if (/^[0-9a-f]{7,40}$/.test(given)) return { commit: given.slice(0, 12), modified: false };
  try {
    // Only this package's own checkout counts: a copy inside some other repository is not ours.
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(root)) {
      return { commit: null, modified: false };
    }
    const commit = git('rev-parse', '--short=12', 'HEAD');
    const modified = git('status', '--porcelain', '--untracked-files=no').length > 0;
    return { commit, modified };
  } catch {
    return { commit: null, modified: false };
  }
}

mkdirSync(join(root, 'dist'), { recursive: true });
const info = { ...source(), built_at: new Date().toISOString() };
writeFileSync(join(root, 'dist', 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
