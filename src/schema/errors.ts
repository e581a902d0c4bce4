// Scenario errors name the file, the field path and the value found, one line per problem:
//   scenarios/x.json: guests[0].policy.order: expected integer 0..11, got "a"
import type { z } from 'zod';
import { SimError } from '../core/errors.js';

export interface ScenarioIssue {
  /** Field path as written in messages: guests[0].policy.order ('' for the document itself). */
  path: string;
  message: string;
  /** The value found at the path (undefined when the field is missing). */
  value?: unknown;
  /** False when the value adds nothing (an unknown key's whole object, a cross-field rule). */
  showValue: boolean;
}

export class ScenarioError extends SimError {
  readonly file: string;
  readonly issues: ScenarioIssue[];
  constructor(file: string, issues: ScenarioIssue[]) {
    super('BAD_CONFIG', issues.map((i) => formatIssue(file, i)).join('\n'), { file, issues });
    this.name = 'ScenarioError';
    this.file = file;
    this.issues = issues;
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    // Sweep keys are paths themselves (policy.order): quote them so the two levels stay apart.
    else if (!/^[A-Za-z_$][\w$]*$/.test(String(k))) out += `[${JSON.stringify(String(k))}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

/** A value as it would appear in the JSON file, cut short when long. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  // JSON.stringify writes these as null; in a file Infinity can only be a literal like 1e400 that overflows.
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : `${v} (a number beyond the largest double, 1.8e308)`;
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function formatIssue(file: string, i: ScenarioIssue): string {
  const where = i.path ? `${file}: ${i.path}` : file;
  if (!i.showValue) return `${where}: ${i.message}`;
  return i.value === undefined ? `${where}: ${i.message}, but it is missing` : `${where}: ${i.message}, got ${showValue(i.value)}`;
}

/** The raw value at a path; stops early at a non-object (a shorthand string standing for an object). */
export function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return v;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Zod issues as scenario issues, values taken from the raw input (what the user wrote, before any shorthand). */
export function issuesFromZod(error: z.ZodError, raw: unknown, prefix: ReadonlyArray<PropertyKey> = []): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  for (const iss of error.issues) {
    const path = [...prefix, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) out.push({ path: formatPath([...path, key]), message: 'unknown field', showValue: false });
      continue;
    }
    const value = valueAt(raw, iss.path);
    const objectValue = value !== null && typeof value === 'object';
    out.push({ path: formatPath(path), message: iss.message, value, showValue: !(iss.code === 'custom' && objectValue) });
  }
  return out;
}
