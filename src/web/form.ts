// The experiment form: one input per URL setting (src/web/experiment.ts), its placeholder the value the scenario
// gives when the setting is not set. Inputs are text so that any value can be typed and the schema's message shown
// for a bad one; an empty input removes the setting.
import { PROFILES } from '../core/profiles.js';
import type { ProfileName } from '../core/types.js';
import { BurstSchema, ChurnSchema, FragmentSchema, MemhogSchema, PageCacheSchema } from '../schema/schema.js';
import { DEVICE_KINDS, DEVICE_PARAMS, HINTING_KNOBS, REPORTING_KNOBS } from './experiment.js';
import { escapeXml } from '../report/svg.js';

/** The choices of an enum field (through .optional()), or undefined for any other field. */
export function choicesOf(field: unknown): string[] | undefined {
  let t = field as { unwrap?: () => unknown; options?: unknown[] } | undefined;
  while (t && typeof t.unwrap === 'function') t = t.unwrap() as typeof t;
  return Array.isArray(t?.options) ? t.options.map(String) : undefined;
}

/** Every field of each workload kind, from the schema itself (a field added there shows up here, enums as lists). */
const WORKLOAD_FIELDS: Record<string, Array<{ name: string; choices: string[] | undefined }>> = Object.fromEntries(
  [MemhogSchema, ChurnSchema, FragmentSchema, PageCacheSchema, BurstSchema].map((s) => [
    String(s.shape.kind.value),
    Object.entries(s.shape as Record<string, unknown>).filter(([k]) => k !== 'kind').map(([name, t]) => ({ name, choices: choicesOf(t) })),
  ]),
);

const HELP: Record<string, string> = {
  duration: 'simulated seconds', seed: 'workload random stream', mem: 'guest RAM, MiB (replaces the exact zone table)',
  cpus: 'guest CPUs', thp: 'transparent hugepages in the guest (false: a workload\'s thp must be never)', backing: 'host page backing guest RAM', device: 'the reporting device',
  'device.latencyMs': 'extra ms per report()', 'device.every': 'every k-th report() fails',
  order: 'page_reporting_order set before register (6.1\'s register() overwrites it with the device\'s order or 9)', capacity: 'blocks per report()', delayMs: 'delay before a pass', budgetDivisor: 'budget = nr_free / (capacity × this)',
  registerAtS: 'balloon registers at', use: 'discard or migration', minOrder: 'smallest order hinted', intervalMs: 'between hint walks',
  hostDelayMs: 'host discards after',
};

const DEFAULTS: Record<string, string> = {
  order: '9', capacity: '32', delayMs: '2000', budgetDivisor: '16', registerAtS: '0',
  use: 'discard', minOrder: '9', intervalMs: '2000', hostDelayMs: '0', backing: 'thp', device: 'virtio-balloon',
  ...Object.fromEntries(Object.values(DEVICE_PARAMS).map((p) => [`device.${p.field}`, p.fallback])),
};

function input(key: string, label: string, value: string | null, placeholder: string, options?: readonly string[]): string {
  const title = HELP[label] ?? HELP[key] ?? '';
  const id = `f-${key.replace(/\W/g, '-')}`;
  const control = options
    ? `<select id="${id}" data-key="${escapeXml(key)}"><option value="">${escapeXml(placeholder)}</option>${options.map((o) => `<option${o === value ? ' selected' : ''}>${escapeXml(o)}</option>`).join('')}</select>`
    : `<input type="text" inputmode="decimal" id="${id}" data-key="${escapeXml(key)}" value="${escapeXml(value ?? '')}" placeholder="${escapeXml(placeholder)}">`;
  return `<label title="${escapeXml(title)}" data-for="${escapeXml(key)}"><span>${escapeXml(label)}</span>${control}</label>`;
}

/** The form for a scenario document (as run) and the URL settings in force. */
export function formHtml(doc: Record<string, unknown>, params: URLSearchParams, policies: [string, string], imported: boolean): string {
  const g = ((doc['guests'] as unknown[])[0] ?? {}) as Record<string, unknown>;
  const v = (k: string) => params.get(k);
  const guestSize = imported ? 'your data' : g['memMiB'] !== undefined ? String(g['memMiB']) : 'file\'s zones';
  let html = `<fieldset><legend>Run</legend>
${input('duration', 'duration (s)', v('duration'), String(doc['durationS'] ?? ''))}
${input('seed', 'seed', v('seed'), String(doc['seed'] ?? 1))}</fieldset>
<fieldset><legend>Guest</legend>
${input('mem', 'memory (MiB)', imported ? null : v('mem'), guestSize)}
${input('cpus', 'CPUs', v('cpus'), String(g['cpus'] ?? 2))}
${input('thp', 'THP', v('thp'), String(g['thp'] ?? true), ['true', 'false'])}
${input('backing', 'host backing', v('backing'), DEFAULTS['backing']!, ['thp', '4k'])}</fieldset>`;
  policies.forEach((p, i) => {
    const key = i ? 'b' : 'a';
    // Only the knobs the policy's kernel has (an order on 5.7, a capacity on 6.1 would be refused).
    const profile = PROFILES[p as ProfileName];
    const knobs = p === 'none' ? [] : p === 'hinting' ? HINTING_KNOBS
      : REPORTING_KNOBS.filter((k) => !profile || !(k in profile.knobs) || profile.knobs[k as keyof typeof profile.knobs]);
    html += `<fieldset><legend>Policy ${'AB'[i]}: ${escapeXml(p)}</legend>${knobs.length ? '' : '<span style="font-size:12px;color:var(--dim)">no knobs</span>'}
${knobs.map((k) => input(`${key}.${k}`, k, v(`${key}.${k}`), DEFAULTS[k] ?? '', k === 'use' ? ['discard', 'migration'] : undefined)).join('\n')}</fieldset>`;
  });
  const dev = v('device');
  html += `<fieldset><legend>Device (reporting)</legend>
${input('device', 'kind', dev, DEFAULTS['device']!, DEVICE_KINDS)}
${dev === 'slow' ? input('device.latencyMs', 'latency (ms)', v('device.latencyMs'), DEFAULTS['device.latencyMs']!) : ''}
${dev === 'failing' ? input('device.every', 'fail every', v('device.every'), DEFAULTS['device.every']!) : ''}</fieldset>`;
  const workloads = (Array.isArray(g['workloads']) ? g['workloads'] : []) as Array<Record<string, unknown>>;
  workloads.forEach((w, i) => {
    const fields = WORKLOAD_FIELDS[String(w['kind'])] ?? [];
    html += `<fieldset><legend>Workload ${i}: ${escapeXml(String(w['kind']))}</legend>
${fields.map((f) => input(`w${i}.${f.name}`, f.name, v(`w${i}.${f.name}`), w[f.name] === undefined ? 'default' : String(w[f.name]), f.choices)).join('\n')}</fieldset>`;
  });
  return html;
}
