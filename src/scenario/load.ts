// Reading a scenario file: JSON → validated ScenarioFile → SimulationSpec. Node only (reads the file system);
// parse.ts is the same without the file, for the web page and tests.
import { readFileSync } from 'node:fs';
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

export function readScenarioFile(path: string, file = path): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
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
