// After asc: turn build/<target>.wasm into an importable ES module (base64), so Node, vitest, esbuild bundles and
// the browser worker all load the same bytes the same way, with no path resolution at run time.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

for (const target of process.argv.slice(2)) {
  const wasm = `build/${target}.wasm`;
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run asc first`);
  const b64 = readFileSync(wasm).toString('base64');
  writeFileSync(`build/${target}.wasm.b64.js`, `export default ${JSON.stringify(b64)};\n`);
  writeFileSync(`build/${target}.wasm.b64.d.ts`, 'declare const wasmBase64: string;\nexport default wasmBase64;\n');
}
