// Reading a scenario file: JSON → validated ScenarioFile → SimulationSpec. Node only (reads the file system);
// parse.ts is the same without the file, for the web page and tests.
import { closeSync, openSync, readSync } from 'node:fs';
import type { SimulationSpec } from '../sim/engine.js';
import { ScenarioError } from '../schema/errors.js';
import { parseScenario, parseScenarioJson } from './parse.js';
import type { ScenarioFile } from '../schema/schema.js';

export { parseScenario, parseScenarioJson };

export interface LoadedScenario {
  /** The file name used in messages (as the user gave it). */
  file: string;
  /** The JSON as read, before validation (sweeps rewrite it per grid point). */
  raw: unknown;
  scenario: ScenarioFile;
  spec: SimulationSpec;
}

/** Far above any scenario (a sweep listing a million values is about 10 MiB), far below what would exhaust memory. */
export const MAX_SCENARIO_BYTES = 64 * 2 ** 20;

/** The file's text, read in chunks up to the bound: /dev/zero or a runaway pipe is refused, not read until memory runs out. */
function readBounded(path: string, file: string): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(1 << 20);
    let total = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
      total += n;
      if (total > MAX_SCENARIO_BYTES) {
        throw new ScenarioError(file, [{ path: '', message: `larger than ${MAX_SCENARIO_BYTES / 2 ** 20} MiB: not a scenario file`, showValue: false }]);
      }
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function readScenarioFile(path: string, file = path): unknown {
  let text: string;
  try {
    text = readBounded(path, file);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file'
      : code === 'EISDIR' ? 'is a directory, expected a scenario .json file'
        : code === 'EACCES' || code === 'EPERM' ? 'permission denied (the file cannot be read)'
          : (e as Error).message;
    throw new ScenarioError(file, [{ path: '', message: why, showValue: false }]);
  }
  return parseScenarioJson(text, file);
}

export function readScenario(path: string, file = path): LoadedScenario {
  const raw = readScenarioFile(path, file);
  return { file, raw, ...parseScenario(raw, file) };
}

/** The scenario at `path` as the engine's SimulationSpec (one guest per policy when `policies` is given). */
export function loadScenario(path: string): SimulationSpec {
  return readScenario(path).spec;
}
