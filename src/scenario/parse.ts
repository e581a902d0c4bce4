// A scenario document (already read) → validated ScenarioFile → SimulationSpec. Browser-safe: the page loads the
// catalogue's files through this, and load.ts reads files from disk and comes here.
import type { SimulationSpec } from '../sim/engine.js';
import { ScenarioError, issuesFromZod } from './errors.js';
import { ScenarioSchema, type ScenarioFile } from './schema.js';
import { scenarioToSpec } from './spec.js';

/** Validate a parsed JSON document. Throws ScenarioError naming `file`, each field path and value. */
export function parseScenario(raw: unknown, file = 'scenario'): { scenario: ScenarioFile; spec: SimulationSpec } {
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) throw new ScenarioError(file, issuesFromZod(r.error, raw));
  return { scenario: r.data, spec: scenarioToSpec(r.data, file) };
}

export function parseScenarioJson(text: string, file = 'scenario'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // One line whatever the engine's message looks like (Node 20 quotes the text around the error).
    const msg = (e as Error).message.replace(/\s+/g, ' ');
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? `line ${text.slice(0, Number(pos[1])).split('\n').length}: ` : '';
    throw new ScenarioError(file, [{ path: '', message: `${line}invalid JSON (${msg})`, showValue: false }]);
  }
}

