// Bundle the TypeScript sources (with the embedded wasm) into dist/ for the CLI, the library and the web page.
// Source maps only when asked (PRSIM_SOURCEMAP=1): the package ships none.
import { build } from 'esbuild';
import { mkdirSync, copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
const common = { bundle: true, sourcemap: process.env.PRSIM_SOURCEMAP === '1', target: 'es2022', logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'esm',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
// The library's two faces share their code through chunks (one SimError class, one wasm module, whichever face
// a program imports it from). zod is a dependency of the package, not bundled; "." reaches no node: module.
await build({ ...common, entryPoints: { index: 'src/index.ts', node: 'src/node.ts' }, outdir: 'dist', splitting: true,
  chunkNames: 'chunks/[name]-[hash]', platform: 'neutral', format: 'esm', external: ['node:*', 'zod'] });
await build({ ...common, entryPoints: ['src/sweep/worker.ts'], outfile: 'dist/sweep-worker.js', platform: 'node', format: 'esm',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });

mkdirSync('dist/web', { recursive: true });
// Minified: the page pulls in zod (the scenario schema) and fflate, which would otherwise triple its size.
await build({ ...common, entryPoints: ['src/web/main.ts'], outfile: 'dist/web/main.js', platform: 'browser', format: 'esm', minify: true });
await build({ ...common, entryPoints: ['src/web/worker.ts'], outfile: 'dist/web/worker.js', platform: 'browser', format: 'esm', minify: true });
copyFileSync('src/web/index.html', 'dist/web/index.html');
// The page's catalogue is the CLI's: every scenarios/*.json, validated by the same schema when the page loads.
mkdirSync('dist/web/scenarios', { recursive: true });
const scenarios = readdirSync('scenarios').filter((f) => f.endsWith('.json')).sort();
for (const f of scenarios) copyFileSync(`scenarios/${f}`, `dist/web/scenarios/${f}`);
writeFileSync('dist/web/scenarios/index.json', JSON.stringify(scenarios) + '\n');

// Type declarations for the package's `exports` (the library API, src/index.ts and what it reaches).
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
