// Command-line overrides (--seed, --duration, --policies) written into the raw scenario before it is validated,
// so the run is exactly what the same edit to the file would give.
import { POLICY_SHORTHANDS } from '../schema/policies.js';
import { UsageError } from './usage-error.js';

export interface Overrides {
  seed?: number | undefined;
  durationS?: number | undefined;
  policies?: string[] | undefined;
}

export function parsePolicies(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => s.trim());
  if (list.every((p) => p === '')) throw new UsageError(`--policies: expected a comma-separated list of ${POLICY_SHORTHANDS.join(', ')}, got '${text}'`);
  for (const p of list) {
    if (p === '') throw new UsageError(`--policies: an empty name in '${text}' (a stray comma?)`);
    if (!POLICY_SHORTHANDS.includes(p)) throw new UsageError(`--policies: unknown policy '${p}' (expected ${POLICY_SHORTHANDS.join(', ')})`);
  }
  // The same policy twice would run the same guest twice and print two identical columns.
  const twice = list.find((p, i) => list.indexOf(p) !== i);
  if (twice !== undefined) throw new UsageError(`--policies: '${twice}' is given twice; name each policy once`);
  return list;
}

export function applyOverrides(raw: unknown, o: Overrides): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const doc = structuredClone(raw) as Record<string, unknown>;
  if (o.seed !== undefined) doc['seed'] = o.seed;
  if (o.durationS !== undefined) doc['durationS'] = o.durationS;
  if (o.policies && Array.isArray(doc['guests'])) {
    for (const g of doc['guests'] as unknown[]) {
      if (g === null || typeof g !== 'object') continue;
      const guest = g as Record<string, unknown>;
      delete guest['policy'];
      guest['policies'] = [...o.policies];
    }
  }
  return doc;
}
