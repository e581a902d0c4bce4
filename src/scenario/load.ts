// Reading a scenario file: JSON → validated ScenarioFile → SimulationSpec. Node only (reads the file system);
// parseScenario is the same without the file, for the web page and tests.
import { readFileSync } from 'node:fs';
import type { SimulationSpec } from '../sim/engine.js';
import { ScenarioError, issuesFromZod } from './errors.js';
import { ScenarioSchema, type ScenarioFile } from './schema.js';
import { checkNesting } from './spec-schema.js';
import { scenarioToSpec } from './spec.js';

export interface LoadedScenario {
  /** The file name used in messages (as the user gave it). */
  file: string;
  /** The JSON as read, before validation (sweeps rewrite it per grid point). */
  raw: unknown;
  scenario: ScenarioFile;
  spec: SimulationSpec;
}

/** Validate a parsed JSON document. Throws ScenarioError naming `file`, each field path and value. */
export function parseScenario(raw: unknown, file = 'scenario'): { scenario: ScenarioFile; spec: SimulationSpec } {
  checkNesting(raw, file);
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) throw new ScenarioError(file, issuesFromZod(r.error, raw));
  return { scenario: r.data, spec: scenarioToSpec(r.data, file) };
}

export function parseScenarioJson(text: string, file = 'scenario'): unknown {
  // A byte order mark before the JSON is what some editors write; it is no part of the document.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // One line whatever the engine's message looks like (Node 20 quotes the text around the error).
    const msg = (e as Error).message.replace(/\s+/g, ' ');
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? `line ${text.slice(0, Number(pos[1])).split('\n').length}: ` : '';
    throw new ScenarioError(file, [{ path: '', message: `${line}invalid JSON (${msg})`, showValue: false }]);
  }
  // Before anything walks it recursively (overrides copy it, the schema descends into it).
  checkNesting(raw, file);
  return raw;
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
