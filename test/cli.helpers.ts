// Shared by the CLI and sweep tests: bundle the command line and the sweep worker the way scripts/build.mjs
// does, into a temporary folder (so tests never race other test files over dist/).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function bundleCli(): Promise<{ dir: string; cli: string; worker: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'prsim-dist-'));
  const common = {
    bundle: true, target: 'es2022', platform: 'node' as const, format: 'esm' as const, logLevel: 'error' as const, absWorkingDir: ROOT,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  };
  await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: join(dir, 'cli.js') });
  await build({ ...common, entryPoints: ['src/sweep/worker.ts'], outfile: join(dir, 'sweep-worker.js') });
  return { dir, cli: join(dir, 'cli.js'), worker: join(dir, 'sweep-worker.js') };
}

/** Runs a bundled CLI in a child process from the checkout's root; a non-zero exit is a result, not a throw. */
export async function runCli(cli: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: ROOT, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A small, fast scenario (a 128 MiB guest, 16 MiB memhog, 6 s), as a raw object to tweak. */
export function smallScenario(): Record<string, any> {
  return {
    name: 'small',
    durationS: 6,
    seed: 7,
    guests: [{
      memMiB: 128, cpus: 2,
      policies: ['none', 'linux-5.7', 'linux-6.1', 'hinting'],
      workloads: [
        { kind: 'memhog', startS: 1, mib: 32, holdS: 0.5 },
        { kind: 'churn', startS: 0.5, durationS: 3, opsPerS: 4000, targetFraction: 0.2 },
      ],
    }],
  };
}

/** smallScenario on one linux-next guest with an 8-point grid (order × capacity × guest size). */
export function sweepScenario(): Record<string, any> {
  const raw = smallScenario();
  delete raw.guests[0].policies;
  raw.guests[0].policy = { kind: 'reporting', profile: 'linux-next' };
  raw.sweep = { 'policy.order': [0, 9], 'policy.capacity': [8, 32], 'guest.memMiB': [96, 128] };
  return raw;
}

/** The sweep tests' setup: a bundled CLI and a temporary folder holding grid.json (the sweep scenario over 3 s). */
export async function sweepFixture(prefix: string): Promise<{ bundle: Awaited<ReturnType<typeof bundleCli>>; tmp: string; scenario: string; cleanup: () => void }> {
  const bundle = await bundleCli();
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const scenario = join(tmp, 'grid.json');
  const raw = sweepScenario();
  raw.durationS = 3;
  writeFileSync(scenario, JSON.stringify(raw));
  const cleanup = (): void => {
    rmSync(bundle.dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  };
  return { bundle, tmp, scenario, cleanup };
}
