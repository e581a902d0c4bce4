// Which file a scenario argument means: a path (relative to the working directory), or a bare name looked up as
// scenarios/<name>.json, first under the working directory, then next to the installed package (so `prsim run`
// works from any directory). No argument: scenarios/memhog.json.
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './usage-error.js';

export const DEFAULT_SCENARIO = 'scenarios/memhog.json';

/** The package root seen from this module: dist/ when bundled, src/cli/ when run from source. */
function packageRoots(): string[] {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    return [resolve(here, '..'), resolve(here, '../..')];
  } catch {
    return [];
  }
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** `path` to read and `file`, the name to show in messages (what the user typed). */
export function resolveScenario(arg: string | undefined, cwd: string): { path: string; file: string } {
  const given = arg ?? DEFAULT_SCENARIO;
  const candidates = [given];
  if (!given.includes('/') && !given.endsWith('.json')) candidates.push(`scenarios/${given}.json`);
  for (const c of candidates) {
    const p = isAbsolute(c) ? c : resolve(cwd, c);
    if (isFile(p)) return { path: p, file: c };
  }
  for (const c of candidates) {
    if (isAbsolute(c)) continue;
    for (const root of packageRoots()) {
      const p = join(root, c);
      if (isFile(p) && existsSync(join(root, 'scenarios'))) return { path: p, file: c };
    }
  }
  if (candidates.length > 1) throw new UsageError(`${given}: no such scenario (looked for ${candidates.join(' and ')})`);
  return { path: isAbsolute(given) ? given : resolve(cwd, given), file: given };
}
