// A sweep grid: the cartesian product of the scenario's `sweep` section, each point applied to a copy of the
// raw JSON and validated like any scenario (so a bad grid value is reported with its field path and value).
//
// Parameter paths:
//   durationS, sampleMs, seed, hostMiB        the scenario itself
//   guest.memMiB, memMiB, workloads[0].mib    every guest (the "guest." prefix is optional)
//   policy.order, policy.capacity             every guest's policy, and every entry of its `policies` except "none"
//   guests[1].cpus                            one guest
import { SimError } from '../core/errors.js';
import { ScenarioError, formatPath } from '../schema/errors.js';
import { expandPolicyShorthand } from '../schema/policies.js';
import type { SweepGrid } from '../schema/schema.js';

export type ParamValue = unknown;
export interface GridPoint {
  index: number;
  /** Parameter path → value, in the order of the sweep section. */
  params: Record<string, ParamValue>;
}

const TOP_LEVEL = new Set(['durationS', 'sampleMs', 'seed', 'hostMiB', 'name', 'description', 'guests']);

/** How many points the grid has (the product of its value counts). Throws when that is not an exact integer. */
export function gridSize(grid: SweepGrid, file = 'scenario'): number {
  let n = 1;
  for (const values of Object.values(grid)) n *= values.length;
  if (!Number.isSafeInteger(n)) {
    throw new ScenarioError(file, [{ path: 'sweep', message: `the grid has ${n.toExponential(2)} points, more than ${Number.MAX_SAFE_INTEGER} can be counted`, showValue: false }]);
  }
  return n;
}

/**
 * Point `index` of the grid, made from the index alone (mixed-radix digits, the last parameter fastest, like
 * nested loops written in file order), so a sweep of any size never holds its grid.
 */
export function gridPoint(grid: SweepGrid, index: number): GridPoint {
  if (grid === null || typeof grid !== 'object' || Array.isArray(grid)) {
    throw new SimError('BAD_ARGUMENT', `gridPoint: expected a sweep grid (an object of value lists), got ${grid === null ? 'null' : typeof grid}`, { field: 'grid', value: grid });
  }
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new SimError('BAD_ARGUMENT', `gridPoint: index must be an integer >= 0, got ${String(index)}`, { field: 'index', value: index });
  }
  const entries = Object.entries(grid);
  const params: Record<string, ParamValue> = {};
  let rest = index;
  for (let i = entries.length - 1; i >= 0; i--) {
    const [key, values] = entries[i]!;
    if (!Array.isArray(values) || values.length === 0) {
      throw new SimError('BAD_ARGUMENT', `gridPoint: grid["${key}"] must be a non-empty array of values`, { field: key, value: values });
    }
    params[key] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  // What is left after dividing by every list's length is 0 exactly when the index is inside the grid.
  if (rest !== 0 || (entries.length === 0 && index !== 0)) {
    throw new SimError('BAD_ARGUMENT', `gridPoint: index ${index} is outside the grid (its points are 0..${gridSizeText(entries)})`, { field: 'index', value: index });
  }
  // Keys in the order of the sweep section.
  const ordered: Record<string, ParamValue> = {};
  for (const [key] of entries) ordered[key] = params[key];
  return { index, params: ordered };
}

function gridSizeText(entries: Array<[string, unknown[]]>): string {
  const n = entries.reduce((a, [, v]) => a * BigInt(v.length), 1n);
  return String(n - 1n);
}

/** Every combination, in index order (small grids and tests; sweeps use gridPoint). */
export function expandGrid(grid: SweepGrid): GridPoint[] {
  return Array.from({ length: gridSize(grid) }, (_, i) => gridPoint(grid, i));
}

export function splitPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new Error(`bad parameter path '${path}'`);
    out.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

type Obj = Record<string | number, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object';

class PathProblem extends Error {}

function setPath(target: Obj, path: Array<string | number>, value: unknown, where: Array<string | number>): void {
  let o: Obj = target;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    let next = o[k];
    if (next === undefined) {
      if (typeof k === 'number' || typeof path[i + 1] === 'number') {
        throw new PathProblem(`${formatPath([...where, ...path.slice(0, i + 1)])} does not exist`);
      }
      next = o[k] = {};
    }
    if (!isObject(next)) throw new PathProblem(`${formatPath([...where, ...path.slice(0, i + 1)])} is not an object`);
    o = next;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(o) && typeof last === 'number' && last >= o.length) {
    throw new PathProblem(`${formatPath([...where, ...path])} does not exist`);
  }
  o[last] = structuredClone(value);
}

/** Apply a `policy.*` parameter to one guest: its policy and its list of policies. */
function setPolicyParam(guest: Obj, rest: Array<string | number>, value: unknown, where: Array<string | number>): void {
  if (!rest.length) {
    // Sweeping the policy itself ("policy": ["linux-5.7", "linux-6.1"]): one policy per point.
    delete guest['policies'];
    guest['policy'] = structuredClone(value);
    return;
  }
  if (Array.isArray(guest['policies'])) {
    const list = guest['policies'] as unknown[];
    list.forEach((p, i) => {
      const obj = expandPolicyShorthand(p);
      if (isObject(obj) && obj['kind'] === 'none') return;
      list[i] = isObject(obj) ? obj : p;
      if (!isObject(list[i])) return; // left for the schema to report
      setPath(list[i] as Obj, rest, value, [...where, 'policies', i]);
    });
    return;
  }
  const p = expandPolicyShorthand(guest['policy'] ?? { kind: 'reporting' });
  if (!isObject(p)) return;
  guest['policy'] = p;
  setPath(p, rest, value, [...where, 'policy']);
}

/** A copy of the raw scenario with the point's values in place and the sweep section removed. */
export function applyParams(raw: unknown, params: Record<string, ParamValue>, file = 'scenario'): unknown {
  if (!isObject(raw)) return raw;
  const doc = structuredClone(raw) as Obj;
  delete doc['sweep'];
  for (const [key, value] of Object.entries(params)) {
    try {
      const path = splitPath(key);
      if (TOP_LEVEL.has(path[0] as string)) {
        setPath(doc, path, value, []);
        continue;
      }
      const inGuest = path[0] === 'guest' ? path.slice(1) : path;
      if (!inGuest.length) throw new PathProblem('names no field of a guest');
      const guests = Array.isArray(doc['guests']) ? (doc['guests'] as unknown[]) : [];
      guests.forEach((g, i) => {
        if (!isObject(g)) return;
        if (inGuest[0] === 'policy') setPolicyParam(g, inGuest.slice(1), value, ['guests', i]);
        else setPath(g, inGuest, value, ['guests', i]);
      });
    } catch (e) {
      if (!(e instanceof PathProblem) && !(e instanceof Error && /bad parameter path/.test(e.message))) throw e;
      throw new ScenarioError(file, [{ path: formatPath(['sweep', key]), message: e.message, showValue: false }]);
    }
  }
  return doc;
}

/** "order=0 capacity=8": a point as text, for progress and error messages. */
export function describePoint(params: Record<string, ParamValue>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}
