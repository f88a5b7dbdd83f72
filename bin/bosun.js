#!/usr/bin/env node
// The compiled entry point; `npm ci` builds dist/ through the `prepare` script.
import('../dist/src/cli/main.js').catch((err) => {
  console.error(`bosun: cannot load the compiled program (${err.message}). Run \`npm run build\` first.`);
  process.exit(2);
});
