// /proc/zoneinfo → per-zone counters, and from there the ZoneSpec[] that resolveGuest takes, so a simulated
// guest can start with the real guest's zone layout, watermarks, lowmem_reserve and per-cpu high/batch.
import type { ZoneSpec } from '../core/config.js';
import { ParseError, SimError, checkText } from '../core/errors.js';
import { ZONE_NAMES, type ZoneName } from '../core/types.js';

export interface ZoneinfoPcp {
  cpu: number;
  count: number;
  high: number;
  batch: number;
  /** The `vm stats threshold:` line printed after each cpu's pageset. */
  vmStatsThreshold?: number;
}

export interface ZoneinfoZone {
  node: number;
  /** As printed: DMA, DMA32, Normal, Movable, Device. */
  name: string;
  /** `pages free`. */
  free: number;
  boost: number;
  min: number;
  low: number;
  high: number;
  spanned: number;
  present: number;
  managed: number;
  cma: number;
  /** `protection:` = lowmem_reserve[], indexed by kernel zone index (DMA 0, DMA32 1, Normal 2, Movable 3, Device 4). */
  protection: number[];
  /** The zone's NR_FREE_PAGES vmstat line; empty zones print no vmstat block, so it is undefined there. */
  nrFreePages?: number;
  pcp: ZoneinfoPcp[];
  /** Printed only for populated zones. */
  startPfn?: number;
  nodeUnreclaimable?: number;
  /** Every `name value` counter of the zone's own block (nr_free_pages, nr_zone_*, numa_*...). */
  stats: Record<string, number>;
  /** 1-based line of the `Node N, zone NAME` header. */
  line: number;
}

export interface Zoneinfo {
  zones: ZoneinfoZone[];
  /** The `per-node stats` block, printed once per node inside its first zone. */
  nodeStats: Map<number, Record<string, number>>;
}

// Counters of the watermark block, printed with the zone header's indent; anything else there goes to stats.
const ZONE_FIELDS = new Set(['boost', 'min', 'low', 'high', 'spanned', 'present', 'managed', 'cma']);
const REQUIRED_FIELDS = ['free', 'min', 'low', 'high', 'spanned', 'present', 'managed'] as const;

const HEADER = /^Node\s+(\d+),\s+zone\s+(\S+)\s*$/;
const KEY_VALUE = /^\s+([A-Za-z_]\w*):?\s+(\S+)\s*$/;

function toInt(file: string, line: number, field: string, text: string): number {
  const v = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v)) throw new ParseError(file, line, `${field}: '${text}' is not an integer`, { field, value: text });
  return v;
}

/** Parse the text of /proc/zoneinfo. Throws ParseError (file, line, field, value) on anything malformed. */
export function parseZoneinfo(text: string, file = 'zoneinfo'): Zoneinfo {
  checkText('parseZoneinfo', text);
  const zones: ZoneinfoZone[] = [];
  const nodeStats = new Map<number, Record<string, number>>();
  let zone: (Partial<ZoneinfoZone> & { stats: Record<string, number>; pcp: ZoneinfoPcp[] }) | undefined;
  // Which block the indented `name value` lines belong to right now.
  let section: 'nodeStats' | 'zone' | 'pagesets' = 'zone';
  let cpu: ZoneinfoPcp | undefined;
  const finish = () => {
    if (!zone) return;
    for (const f of REQUIRED_FIELDS) {
      if (zone[f] === undefined) throw new ParseError(file, zone.line!, `zone ${zone.name}: no '${f}' line`, { field: f, zone: zone.name });
    }
    zones.push({ boost: 0, cma: 0, protection: [], ...zone } as ZoneinfoZone);
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const ln = i + 1;
    if (raw.trim() === '') continue;
    const h = HEADER.exec(raw);
    if (h) {
      finish();
      zone = { node: Number(h[1]), name: h[2]!, stats: {}, pcp: [], line: ln };
      section = 'zone';
      cpu = undefined;
      continue;
    }
    if (!zone) throw new ParseError(file, ln, `expected 'Node N, zone NAME', got '${raw}'`, { field: 'header', value: raw });
    const t = raw.trim();
    if (t === 'per-node stats') {
      section = 'nodeStats';
      nodeStats.set(zone.node!, {});
      continue;
    }
    if (t === 'pagesets') {
      section = 'pagesets';
      continue;
    }
    let m = /^pages free\s+(\S+)$/.exec(t);
    if (m) {
      zone.free = toInt(file, ln, 'pages free', m[1]!);
      section = 'zone';
      continue;
    }
    m = /^protection:\s*\((.*)\)$/.exec(t);
    if (m) {
      zone.protection = m[1]!.split(',').map((s) => toInt(file, ln, 'protection', s.trim()));
      continue;
    }
    if (t.startsWith('protection:')) throw new ParseError(file, ln, `protection: expected '(a, b, ...)', got '${t}'`, { field: 'protection', value: t });
    m = /^cpu:\s*(\S+)$/.exec(t);
    if (m) {
      cpu = { cpu: toInt(file, ln, 'cpu', m[1]!), count: NaN, high: NaN, batch: NaN };
      zone.pcp.push(cpu);
      section = 'pagesets';
      continue;
    }
    m = /^vm stats threshold:\s*(\S+)$/.exec(t);
    if (m) {
      if (cpu) cpu.vmStatsThreshold = toInt(file, ln, 'vm stats threshold', m[1]!);
      continue;
    }
    const kv = KEY_VALUE.exec(raw);
    if (!kv) throw new ParseError(file, ln, `expected 'name value', got '${t}'`, { field: t.split(/\s+/)[0], value: t });
    const key = kv[1]!;
    const value = toInt(file, ln, key, kv[2]!);
    if (key === 'node_unreclaimable') zone.nodeUnreclaimable = value;
    else if (key === 'start_pfn') zone.startPfn = value;
    else if (section === 'nodeStats') nodeStats.get(zone.node!)![key] = value;
    else if (section === 'pagesets' && cpu && (key === 'count' || key === 'high' || key === 'batch')) cpu[key] = value;
    else if (section === 'zone' && ZONE_FIELDS.has(key)) {
      (zone as Record<string, unknown>)[key] = value;
    } else {
      zone.stats[key] = value;
      if (key === 'nr_free_pages') zone.nrFreePages = value;
    }
  }
  finish();
  if (!zones.length) throw new ParseError(file, 1, "no zones: expected 'Node N, zone NAME' blocks (the file is empty)", { field: 'header', value: '' });
  checkZoneCounts(file, zones);
  for (const z of zones) {
    for (const p of z.pcp) {
      for (const f of ['count', 'high', 'batch'] as const) {
        if (Number.isNaN(p[f])) throw new ParseError(file, z.line, `zone ${z.name} cpu ${p.cpu}: no '${f}' line`, { field: f, zone: z.name, cpu: p.cpu });
      }
    }
  }
  return { zones, nodeStats };
}

/**
 * What every real zoneinfo satisfies, checked so an impossible file is refused at its line rather than becoming
 * an impossible guest: managed <= present <= spanned, free <= managed, min <= low <= high, and the spans of
 * populated zones of a node do not overlap.
 */
function checkZoneCounts(file: string, zones: ZoneinfoZone[]): void {
  const fail = (z: ZoneinfoZone, field: string, value: number, message: string): never => {
    throw new ParseError(file, z.line, `zone ${z.name}: ${message}`, { field, value, zone: z.name });
  };
  for (const z of zones) {
    for (const f of ['spanned', 'present', 'managed', 'free', 'min', 'low', 'high'] as const) {
      if (z[f] < 0) fail(z, f, z[f], `${f} ${z[f]} is negative`);
    }
    if (z.present > z.spanned) fail(z, 'present', z.present, `present ${z.present} is more than spanned ${z.spanned}`);
    if (z.managed > z.present) fail(z, 'managed', z.managed, `managed ${z.managed} is more than present ${z.present}`);
    if (z.free > z.managed) fail(z, 'free', z.free, `pages free ${z.free} is more than managed ${z.managed}`);
    if (z.min > z.low || z.low > z.high) fail(z, 'min', z.min, `watermarks min ${z.min}, low ${z.low}, high ${z.high} are not in order`);
    if (z.startPfn !== undefined && z.startPfn + z.spanned > 2 ** 40) fail(z, 'start_pfn', z.startPfn, `span [${z.startPfn}, ${z.startPfn + z.spanned}) is beyond 2^40 pfns (52-bit physical addresses)`);
  }
  const spans = zones.filter((z) => z.present > 0 && z.startPfn !== undefined);
  for (let i = 0; i < spans.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = spans[j]!, b = spans[i]!;
      if (a.node !== b.node) continue;
      if (b.startPfn! < a.startPfn! + a.spanned && a.startPfn! < b.startPfn! + b.spanned) {
        fail(b, 'start_pfn', b.startPfn!, `[${b.startPfn}, ${b.startPfn! + b.spanned}) overlaps zone ${a.name} [${a.startPfn}, ${a.startPfn! + a.spanned}) (line ${a.line})`);
      }
    }
  }
}

/** The zones that hold memory (present > 0); the kernel prints empty ones too (Normal, Movable, Device). */
export function populatedZones(info: Zoneinfo): ZoneinfoZone[] {
  return info.zones.filter((z) => z.present > 0);
}

/**
 * Physical memory ranges of the guest as the kernel lists them at boot in dmesg ("Early memory node ranges",
 * lines `node   0: [mem 0x...-0x...]`, inclusive byte ranges), as half-open pfn ranges. zoneinfo says how many
 * pages a zone is missing (spanned - present) but not where; these ranges say where.
 */
export function memoryRangesFromDmesg(text: string): Array<[number, number]> {
  checkText('memoryRangesFromDmesg', text);
  const out: Array<[number, number]> = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    if (line.includes('Early memory node ranges')) {
      inBlock = true;
      continue;
    }
    if (!inBlock) continue;
    const m = /node\s+\d+:\s+\[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\]/.exec(line);
    if (!m) {
      if (out.length) break;
      continue;
    }
    out.push([Math.floor(Number(m[1]) / 4096), Math.floor(Number(m[2]) / 4096) + 1]);
  }
  return out;
}

export interface ZoneSpecOptions {
  /** Half-open pfn ranges that hold memory (e.g. memoryRangesFromDmesg); when given, holes are exactly the gaps. */
  memoryRanges?: Array<[number, number]>;
}

// The x86 legacy hole: pfn 0xa0..0xff (VGA memory and BIOS ROMs, 640 KiB to 1 MiB) is never RAM, and the
// firmware reserves the EBDA just below it; on the real guest that is pfn 159..255, exactly DMA's 97 missing pages.
const ISA_HOLE_END = 0x100;

function guessHoles(name: string, start: number, end: number, missing: number): Array<[number, number]> {
  if (missing <= 0) return [];
  if (name === 'DMA' && start < ISA_HOLE_END && end >= ISA_HOLE_END && missing <= ISA_HOLE_END - start) {
    return [[ISA_HOLE_END - missing, ISA_HOLE_END]];
  }
  // No better knowledge: treat the missing pages as the end of the span (the zone behaves as if it were shorter).
  return [[end - missing, end]];
}

function holesFromRanges(start: number, end: number, ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = ranges.map(([a, b]) => [Math.max(a, start), Math.min(b, end)] as [number, number])
    .filter(([a, b]) => a < b)
    .sort((x, y) => x[0] - y[0]);
  const holes: Array<[number, number]> = [];
  let at = start;
  for (const [a, b] of sorted) {
    if (a > at) holes.push([at, a]);
    at = Math.max(at, b);
  }
  if (at < end) holes.push([at, end]);
  return holes;
}

/**
 * ZoneSpec[] for resolveGuest from a parsed zoneinfo: span [start_pfn, start_pfn + spanned), managed pages,
 * watermarks, lowmem_reserve (re-indexed by position among the populated zones, as ZoneConfig wants) and the
 * per-cpu high/batch of the first cpu (6.1 gives every cpu the same). Empty zones are skipped.
 * Holes (spanned - present pages): exactly from `memoryRanges` when given; otherwise the x86 legacy hole below
 * 1 MiB for a DMA zone that spans it, else at the end of the zone.
 */
export function zoneSpecsFromZoneinfo(info: Zoneinfo, opts: ZoneSpecOptions = {}): ZoneSpec[] {
  const zones = populatedZones(info);
  const nodes = new Set(zones.map((z) => z.node));
  if (nodes.size > 1) {
    throw new SimError('BAD_CONFIG', `zoneinfo has ${nodes.size} nodes; the simulator models one`, { nodes: [...nodes] });
  }
  for (const z of zones) {
    if (!(ZONE_NAMES as readonly string[]).includes(z.name)) {
      throw new SimError('BAD_CONFIG', `zone ${z.name} holds memory but the simulator knows only ${ZONE_NAMES.join(', ')}`, { zone: z.name });
    }
    if (z.startPfn === undefined) {
      throw new SimError('PARSE', `zone ${z.name} (line ${z.line}) is populated but has no start_pfn line`, { field: 'start_pfn', zone: z.name, line: z.line });
    }
  }
  const kernelIndex = zones.map((z) => ZONE_NAMES.indexOf(z.name as ZoneName));
  return zones.map((z) => {
    const startPfn = z.startPfn!;
    const endPfn = startPfn + z.spanned;
    const missing = z.spanned - z.present;
    let holes: Array<[number, number]>;
    if (opts.memoryRanges) {
      holes = holesFromRanges(startPfn, endPfn, opts.memoryRanges);
      const n = holes.reduce((s, [a, b]) => s + b - a, 0);
      if (n !== missing) {
        throw new SimError('BAD_CONFIG', `zone ${z.name}: memory ranges leave ${n} pages of holes, zoneinfo says ${missing} (spanned ${z.spanned} - present ${z.present})`, { zone: z.name, holes, missing });
      }
    } else {
      holes = guessHoles(z.name, startPfn, endPfn, missing);
    }
    const spec: ZoneSpec = {
      name: z.name as ZoneName,
      startPfn,
      endPfn,
      managed: z.managed,
      watermarks: { min: z.min, low: z.low, high: z.high },
      lowmemReserve: kernelIndex.map((j) => z.protection[j] ?? 0),
    };
    if (holes.length) spec.holes = holes;
    const pcp = z.pcp[0];
    if (pcp) {
      spec.pcpHigh = pcp.high;
      spec.pcpBatch = pcp.batch;
    }
    return spec;
  });
}

/** Number of CPUs with a pageset in the first populated zone (the guest's possible CPUs). */
export function cpusFromZoneinfo(info: Zoneinfo): number {
  return populatedZones(info)[0]?.pcp.length ?? 0;
}
