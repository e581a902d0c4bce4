// The experiment the page runs, as URL parameters over a scenario file of the catalogue (scenarios/*.json): the
// page's two policies (A, B) and their knobs, the guest, device, host, workload fields, seed and duration are
// written into the scenario document, which then goes through the same schema as `prsim run`. A value the schema
// refuses is left out (the rest still runs) and named in a message; the document is what "copy as scenario JSON"
// gives, so `prsim run` of it gives the page's figures.
import { parseScenario } from '../scenario/parse.js';
import { ScenarioError, type ScenarioIssue } from '../schema/errors.js';
import { POLICY_SHORTHANDS } from '../schema/policies.js';
import type { ScenarioFile } from '../schema/schema.js';
import type { SimulationSpec } from '../sim/engine.js';

export interface CatalogueEntry {
  /** File name without .json: the `scenario` URL value. */
  id: string;
  file: string;
  raw: Record<string, unknown>;
  /** Set when the file itself does not validate (the page lists it, but cannot run it). */
  error?: string;
}

/** Policy knobs offered per kind (the scenario schema's fields). */
export const REPORTING_KNOBS = ['order', 'capacity', 'delayMs', 'budgetDivisor', 'registerAtS'] as const;
export const HINTING_KNOBS = ['use', 'minOrder', 'intervalMs', 'hostDelayMs'] as const;
export const DEVICE_KINDS = ['virtio-balloon', 'slow', 'failing', 'null'] as const;
export const PAGE_POLICIES = POLICY_SHORTHANDS;
export const DEFAULT_SCENARIO = 'memhog';
export const DEFAULT_POLICIES = ['none', 'linux-6.1'] as const;

/** URL keys that are the page's own (not part of the experiment). */
export const VIEW_KEYS = ['speed', 'autoplay'] as const;

export interface Built {
  /** The scenario document as run (one guest entry with `policies: [A, B]`). */
  doc: Record<string, unknown>;
  scenario: ScenarioFile;
  spec: SimulationSpec;
  /** URL keys whose values were refused (and left out), with the message; plus problems without a key. */
  problems: Array<{ key: string; value: string; message: string }>;
  /** The URL parameters actually in force (refused ones removed). */
  params: URLSearchParams;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** A URL value as the JSON value it stands for: numbers and booleans as such, anything else as the string. */
export function jsonValue(v: string): unknown {
  if (NUMBER.test(v.trim())) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  if (v === 'null') return null;
  return v;
}

function policyEntry(shorthand: unknown, knobs: Record<string, unknown>): unknown {
  if (!Object.keys(knobs).length) return shorthand;
  if (shorthand === 'none' || shorthand === 'hinting') return { kind: shorthand, ...knobs };
  if (typeof shorthand === 'string' && POLICY_SHORTHANDS.includes(shorthand)) return { kind: 'reporting', profile: shorthand, ...knobs };
  return shorthand;
}

/** The policy shorthand and knobs a scenario's policy entry stands for (for the defaults of the form). */
export function policyShorthandOf(p: unknown): string {
  if (typeof p === 'string') return p;
  if (p && typeof p === 'object') {
    const o = p as Record<string, unknown>;
    if (o['kind'] === 'reporting') return String(o['profile'] ?? 'linux-6.1');
    return String(o['kind']);
  }
  return 'none';
}

interface Applied {
  doc: Record<string, unknown>;
  /** Scenario field path → the URL key that set it. */
  keyOf: Map<string, string>;
}

/** Each device kind's one parameter: the URL key is device.<field>; the fallback when the URL names the kind alone. */
export const DEVICE_PARAMS = { slow: { field: 'latencyMs', fallback: '5' }, failing: { field: 'every', fallback: '3' } } as const;

/** Write the URL parameters into a copy of the scenario document. */
export function applyParams(base: Record<string, unknown>, params: URLSearchParams): Applied {
  const doc = structuredClone(base);
  delete doc['sweep'];
  const keyOf = new Map<string, string>();
  const guests = Array.isArray(doc['guests']) ? (doc['guests'] as Array<Record<string, unknown>>) : [];
  const g = (guests[0] ??= {});
  doc['guests'] = [g];
  const set = (obj: Record<string, unknown>, field: string, path: string, key: string) => {
    const v = params.get(key);
    if (v === null) return;
    obj[field] = jsonValue(v);
    keyOf.set(path, key);
  };
  set(doc, 'seed', 'seed', 'seed');
  set(doc, 'durationS', 'durationS', 'duration');

  // The guest: a size in MiB replaces an exact zone table.
  if (params.get('mem') !== null) {
    delete g['zones'];
    set(g, 'memMiB', 'guests[0].memMiB', 'mem');
  }
  set(g, 'cpus', 'guests[0].cpus', 'cpus');
  set(g, 'thp', 'guests[0].thp', 'thp');
  if (params.get('backing') !== null) {
    const host = (g['host'] = { ...((g['host'] as object) ?? {}) }) as Record<string, unknown>;
    set(host, 'backing', 'guests[0].host.backing', 'backing');
  }

  // Device: a kind and its one parameter.
  const kind = params.get('device');
  if (kind !== null) {
    // The kind is a name, always a string ('null' is the null device, not JSON null).
    const dev: Record<string, unknown> = { kind };
    keyOf.set('guests[0].device', 'device');
    keyOf.set('guests[0].device.kind', 'device');
    for (const [k, p] of Object.entries(DEVICE_PARAMS)) {
      if (kind === k) dev[p.field] = jsonValue(params.get(`device.${p.field}`) ?? p.fallback);
      keyOf.set(`guests[0].device.${p.field}`, `device.${p.field}`);
    }
    g['device'] = dev;
  }

  // Policies A and B, from the scenario's first two unless the URL names them.
  const scenarioPolicies = (Array.isArray(g['policies']) ? g['policies'] : g['policy'] !== undefined ? [g['policy']] : []) as unknown[];
  const policies = [0, 1].map((i) => {
    const key = i ? 'b' : 'a';
    const named = params.get(key);
    const shorthand = named ?? policyShorthandOf(scenarioPolicies[i] ?? DEFAULT_POLICIES[i]);
    if (named !== null) keyOf.set(`guests[0].policies[${i}]`, key);
    const knobs: Record<string, unknown> = {};
    for (const k of [...REPORTING_KNOBS, ...HINTING_KNOBS]) {
      const v = params.get(`${key}.${k}`);
      if (v === null) continue;
      knobs[k] = jsonValue(v);
      keyOf.set(`guests[0].policies[${i}].${k}`, `${key}.${k}`);
    }
    // Without URL knobs, the scenario's own entry (with its knobs) stands when the URL does not replace it.
    if (named === null && !Object.keys(knobs).length && scenarioPolicies[i] !== undefined) return structuredClone(scenarioPolicies[i]);
    return policyEntry(shorthand, knobs);
  });
  delete g['policy'];
  g['policies'] = policies;

  // Workload fields: w<i>.<field>.
  const workloads = Array.isArray(g['workloads']) ? (g['workloads'] as Array<Record<string, unknown>>) : [];
  for (const [key, v] of params) {
    const m = /^w(\d+)\.(\w+)$/.exec(key);
    if (!m) continue;
    const w = workloads[Number(m[1])];
    if (!w) continue;
    w[m[2]!] = jsonValue(v);
    keyOf.set(`guests[0].workloads[${m[1]}].${m[2]}`, key);
  }
  return { doc, keyOf };
}

function workloadsOf(raw: Record<string, unknown>): Array<Record<string, unknown>> {
  const g = (Array.isArray(raw['guests']) ? raw['guests'][0] : undefined) as Record<string, unknown> | undefined;
  return Array.isArray(g?.['workloads']) ? (g['workloads'] as Array<Record<string, unknown>>) : [];
}

/** How many issues the schema finds in a document (0: it validates). */
function issueCount(doc: Record<string, unknown>, id: string): number {
  try {
    parseScenario(doc, `${id}.json`);
    return 0;
  } catch (e) {
    if (e instanceof ScenarioError) return e.issues.length;
    throw e;
  }
}

/** The URL key a refused field path belongs to: the path itself or its nearest parent that a key set. */
function keyFor(path: string, keyOf: Map<string, string>): string | undefined {
  for (let p = path; p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
    const k = keyOf.get(p);
    if (k) return k;
    if (!/(\.[^.[\]]+|\[\d+\])$/.test(p)) break;
  }
  return undefined;
}

function issueText(i: ScenarioIssue): string {
  return i.showValue && i.value === undefined ? `${i.message}, but it is missing` : i.message;
}

/**
 * Build and validate the experiment. Refused URL values are dropped one round at a time until the document
 * validates; a problem of the scenario file itself (no URL key to drop) is thrown as the ScenarioError.
 */
export function buildExperiment(entry: CatalogueEntry, input: URLSearchParams): Built {
  const params = new URLSearchParams(input);
  for (const k of VIEW_KEYS) params.delete(k);
  const problems: Built['problems'] = [];
  // A key given twice: the first value runs (URLSearchParams.get), and the others are said to be left out.
  for (const k of new Set(params.keys())) {
    const [first, ...rest] = params.getAll(k);
    for (const v of rest) problems.push({ key: k, value: v, message: `${k} is given more than once; the first value (${first}) is used` });
    if (rest.length) params.set(k, first!);
  }
  params.delete('scenario');
  for (const k of ['a', 'b']) {
    const v = params.get(k);
    if (v !== null && !POLICY_SHORTHANDS.includes(v)) {
      problems.push({ key: k, value: v, message: `expected one of ${POLICY_SHORTHANDS.join(', ')}` });
      params.delete(k);
    }
  }
  const workloads = workloadsOf(entry.raw);
  for (const k of [...params.keys()]) {
    const knob = /^[ab]\.(\w+)$/.exec(k)?.[1];
    // A device parameter belongs to its kind: without that kind in the URL it would be dropped unseen.
    const deviceKind = Object.entries(DEVICE_PARAMS).find(([, p]) => k === `device.${p.field}`)?.[0] ?? null;
    const known = ['seed', 'duration', 'mem', 'cpus', 'thp', 'backing', 'device', 'a', 'b'].includes(k) || deviceKind !== null
      || (knob !== undefined && (REPORTING_KNOBS as readonly string[]).concat(HINTING_KNOBS).includes(knob)) || /^w\d+\.\w+$/.test(k);
    const w = /^w(\d+)\.(\w+)$/.exec(k);
    const message = !known ? knob !== undefined ? `unknown policy knob (reporting: ${REPORTING_KNOBS.join(', ')}; hinting: ${HINTING_KNOBS.join(', ')})` : 'unknown setting'
      : deviceKind && params.get('device') !== deviceKind ? `applies with device=${deviceKind} only`
      // A workload's kind is the scenario's (its other fields are the kind's): choosing one is choosing a scenario.
      : w && Number(w[1]) >= workloads.length ? `${entry.id} has ${workloads.length === 1 ? 'one workload, w0' : `${workloads.length} workloads, w0..w${workloads.length - 1}`}`
      : w && w[2] === 'kind' ? `the workload kind is the scenario's (${String(workloads[Number(w[1])]?.['kind'])}): choose a scenario with that workload`
      : null;
    if (message) {
      problems.push({ key: k, value: params.get(k) ?? '', message });
      params.delete(k);
    }
  }
  for (let round = 0; round < 50; round++) {
    const { doc, keyOf } = applyParams(entry.raw, params);
    try {
      const { scenario, spec } = parseScenario(doc, `${entry.id}.json`);
      return { doc, scenario, spec, problems, params };
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      let dropped = false;
      for (const i of e.issues) {
        const key = keyFor(i.path, keyOf);
        if (!key || !params.has(key)) continue;
        problems.push({ key, value: params.get(key) ?? '', message: `${issueText(i)} (scenario field ${i.path})` });
        params.delete(key);
        dropped = true;
      }
      if (!dropped) {
        // No issue is at a field a key set (a rule across fields, say): the key whose removal leaves the fewest
        // issues is the one refused, so the rest still runs; a file that fails on its own is the file's problem.
        let key: string | undefined;
        let fewest = e.issues.length;
        for (const k of params.keys()) {
          const without = new URLSearchParams(params);
          without.delete(k);
          const n = issueCount(applyParams(entry.raw, without).doc, entry.id);
          if (n < fewest) [key, fewest] = [k, n];
        }
        if (key === undefined) throw e;
        problems.push({ key, value: params.get(key) ?? '', message: e.issues.map((i) => `${issueText(i)} (scenario field ${i.path})`).join('; ') });
        params.delete(key);
      }
    }
  }
  throw new Error('experiment: too many refused values');
}

/** The scenario document as a file: name and description say where it came from. */
export function scenarioJson(doc: Record<string, unknown>): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
