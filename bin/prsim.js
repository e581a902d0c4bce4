#!/usr/bin/env node
// The installed command: the bundled CLI in dist/, which `npm install` builds (the `prepare` script) and
// `npm run build` rebuilds. A checkout without it says what to run instead of failing with a module error.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`prsim: ${fileURLToPath(cli)} is missing: build it with 'npm run build' in ${root}\n`);
  process.exit(2);
}
await import(cli.href);
