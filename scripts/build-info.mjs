#!/usr/bin/env node
// Writes dist/build-info.json after `tsc`: the commit the build was made from, so `bosun --version`
// names it in a clone and in an installed package alike (the tarball carries no .git). Outside a
// git checkout of this package, or without git, the commit is recorded as unknown: never an error.
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

let commit = null;
let modified = false;
try {
  // Only this package's own checkout counts: a copy inside some other repository is not a commit of ours.
  if (realpathSync(git('rev-parse', '--show-toplevel')) === realpathSync(root)) {
    commit = git('rev-parse', '--short=12', 'HEAD');
    modified = git('status', '--porcelain', '--untracked-files=no').length > 0;
  }
} catch {
  commit = null;
}

mkdirSync(join(root, 'dist'), { recursive: true });
const info = { commit, modified, built_at: new Date().toISOString() };
writeFileSync(join(root, 'dist', 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
