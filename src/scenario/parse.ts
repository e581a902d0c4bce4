// A scenario document (already read) → validated ScenarioFile → SimulationSpec. Browser-safe: the page loads the
// catalogue's files through this, and load.ts reads files from disk and comes here.
import type { SimulationSpec } from '../sim/engine.js';
import { ScenarioError, issuesFromZod } from '../schema/errors.js';
import { ScenarioSchema, type ScenarioFile } from '../schema/schema.js';
import { checkNesting } from '../schema/spec-schema.js';
import { scenarioToSpec } from './spec.js';

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

