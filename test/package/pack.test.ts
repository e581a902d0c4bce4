// The package as a user gets it: `npm pack` of the built tree, installed into a fresh folder, then type-checked
// as a consumer would under module nodenext and under moduleResolution bundler, with exactOptionalPropertyTypes
// and without skipLibCheck (so every shipped declaration is checked too), and run. The README's API example
// is compiled as written.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
let tmp: string;
let tarball: string;
let files: string[];
let consumer: string;

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'index.js')) || !existsSync(join(ROOT, 'dist', 'node.d.ts'))) {
    throw new Error(`${join(ROOT, 'dist')} is not built: run 'npm run test:package' (it builds first)`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'prsim-pack-'));
  const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(tmp, packed!.filename);
  files = packed!.files.map((f) => f.path);
  consumer = join(tmp, 'consumer');
  execFileSync('mkdir', [consumer]);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // zod (the package's one dependency) and Node's types come from npm's cache when it has them.
  const typesNode = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version as string;
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, `@types/node@${typesNode}`], consumer);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** tsc on one file of the consumer with these options; returns its diagnostics ('' when clean). */
function typecheck(file: string, options: Record<string, unknown>): string {
  const config = join(consumer, `tsconfig.${file}.json`);
  writeFileSync(config, JSON.stringify({
    compilerOptions: {
      target: 'es2022', lib: ['es2022', 'dom'], strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
      skipLibCheck: false, noEmit: true, types: [], ...options,
    },
    files: [file],
  }));
  try {
    execFileSync(process.execPath, [TSC, '-p', config], { cwd: consumer, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return '';
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

const README_EXAMPLE = (() => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('## The API');
  const start = readme.indexOf('```ts\n', at) + 6;
  return readme.slice(start, readme.indexOf('```', start));
})();

// What the types promise beyond the README: metrics by group, migratetypes by name, and what they refuse.
const TYPED = `
import { WasmGuest, ReferenceAllocator, MigrateType, resolveGuest, simulate, type GuestMetrics } from 'page-reporting-sim';
const g = WasmGuest.create({ profile: 'linux-6.1', memBytes: 2 ** 30 });
g.boot();
g.free(g.alloc(0, MigrateType.MOVABLE), 0);
// @ts-expect-error: 7 is no migratetype
g.alloc(0, 7);
// The reference model takes the same types.
const ref = new ReferenceAllocator(resolveGuest({ memBytes: 2 ** 28 }));
ref.boot();
ref.setPageblockMt(0, MigrateType.UNMOVABLE);
// @ts-expect-error: 7 is no migratetype
ref.alloc(0, 7);
// @ts-expect-error: nor is 6
ref.freeList(0, 0, 6);
const r = await simulate({ durationS: 1, guests: [{ guest: { memBytes: 2 ** 28 }, policy: { kind: 'hinting' } }] });
const m: GuestMetrics = r.guests[0]!.metrics;
const hinted: number | undefined = m.hinting?.pagesHinted;
const rss: number = m.host.rssKib + m.reporting.pagesReported + m.allocator.allocFailures + m.workloads.pageOps;
// @ts-expect-error: metrics are read by name, not by string key
const old: number = m['hint.pagesHinted'];
export { hinted, rss, old };
`;

const NODE = `
import { loadRun, replay, fidelityRows, runScenarioSpec, main, memoryIo, SimError, type Run } from 'page-reporting-sim/node';
const io = memoryIo();
const code: number = await main(['--version'], io);
const run: Run | null = code === 0 ? null : loadRun('/nowhere');
export { replay, fidelityRows, runScenarioSpec, SimError, run };
`;

describe('npm pack', () => {
  it('ships the two faces, their types, the LICENSE and no source maps or sources', () => {
    for (const f of ['LICENSE', 'package.json', 'README.md', 'bin/prsim.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts', 'dist/sweep-worker.js']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(consumer, 'node_modules', 'page-reporting-sim', 'package.json'), 'utf8'));
    expect(pkg.types).toBe('./dist/index.d.ts');
    expect(Object.keys(pkg.exports)).toEqual(['.', './node', './package.json']);
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(consumer, 'node_modules', 'page-reporting-sim', 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('the README\'s API example and the typed metrics compile under nodenext and bundler, exactOptionalPropertyTypes, no skipLibCheck, with or without the DOM lib', () => {
    expect(README_EXAMPLE).toContain('reporting.register(new VirtioBalloonDevice(host))');
    writeFileSync(join(consumer, 'readme.ts'), README_EXAMPLE);
    writeFileSync(join(consumer, 'typed.ts'), TYPED);
    for (const file of ['readme.ts', 'typed.ts']) {
      expect(typecheck(file, { module: 'nodenext', moduleResolution: 'nodenext' }), `${file} nodenext`).toBe('');
      expect(typecheck(file, { module: 'esnext', moduleResolution: 'bundler' }), `${file} bundler`).toBe('');
    }
    // A Node program: Node's types and no DOM lib (so no WebAssembly namespace); every shipped declaration checks.
    for (const file of ['readme.ts', 'typed.ts']) {
      expect(typecheck(file, { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] }), `${file} node, no DOM`).toBe('');
    }
    // "." needs no Node types (types: [] above); "./node" does.
    writeFileSync(join(consumer, 'node.ts'), NODE);
    expect(typecheck('node.ts', { module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] })).toBe('');
    expect(typecheck('node.ts', { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] }), 'node.ts, no DOM').toBe('');
  });

  it('a type error in a consumer is reported, so the checks above can fail', () => {
    writeFileSync(join(consumer, 'wrong.ts'), `import { WasmGuest } from 'page-reporting-sim';\nconst n: string = WasmGuest.create({ memBytes: 2 ** 30 }).freePages(0);\nexport { n };\n`);
    expect(typecheck('wrong.ts', { module: 'nodenext', moduleResolution: 'nodenext' })).toMatch(/TS2322/);
  });

  it('runs as installed: both faces share one module graph, and the prsim command works', () => {
    writeFileSync(join(consumer, 'run.mjs'), `
import * as web from 'page-reporting-sim';
import * as node from 'page-reporting-sim/node';
const g = web.WasmGuest.create({ memBytes: 2 ** 30 });
g.boot();
const r = await web.simulate({ durationS: 2, guests: [{ guest: { memBytes: 2 ** 28 }, policy: { kind: 'reporting' } }] });
let caught = null;
try { node.readScenarioFile('/no/such/scenario.json'); } catch (e) { caught = e; }
console.log(JSON.stringify({ sameError: web.SimError === node.SimError, caughtIsSimError: caught instanceof web.SimError,
  sameGuest: web.WasmGuest === node.WasmGuest, free: g.freePages(g.config.zones.length - 1) > 0, samples: r.guests[0].samples.length }));
`);
    const out = JSON.parse(execFileSync(process.execPath, ['run.mjs'], { cwd: consumer, encoding: 'utf8' }));
    expect(out).toEqual({ sameError: true, caughtIsSimError: true, sameGuest: true, free: true, samples: 41 });
    const version = execFileSync(join(consumer, 'node_modules', '.bin', 'prsim'), ['--version'], { cwd: consumer, encoding: 'utf8' });
    expect(version).toBe('prsim 0.1.0\n');
  });
});
