#!/usr/bin/env node
// `npm pack` hooks. prepack: copy package-lock.json to npm-shrinkwrap.json, which npm puts in the
// tarball and honours when installing it, so `npm install -g ./bosun-<version>.tgz` gets exactly the
// dependency versions the tests ran against (package.json's `overrides` only apply to the project
// being developed, not to an installed package). postpack: remove it again, so the clone keeps one lockfile.
import { copyFileSync, rmSync } from 'node:fs';

const mode = process.argv[2];
if (mode === 'add') copyFileSync('package-lock.json', 'npm-shrinkwrap.json');
else if (mode === 'remove') rmSync('npm-shrinkwrap.json', { force: true });
else {
  console.error('usage: node scripts/pack-lock.mjs add|remove');
  process.exit(2);
}
