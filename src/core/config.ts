// Guest configuration: from a size or explicit zones to a fully resolved GuestConfig, with the kernel's
// formulas for watermarks (6.1 __setup_per_zone_wmarks), lowmem_reserve and per-cpu high/batch
// (6.1 zone_batchsize/zone_highsize; 5.7 high = 6 * batch).
import { SimError } from './errors.js';
import { getProfile } from './profiles.js';
import {
  type GuestConfig, type ProfileName, type Watermarks, type ZoneConfig, type ZoneName,
  MAX_CPUS, PAGEBLOCK_PAGES, ZONE_NAMES,
} from './types.js';
import { NIL } from './layout.generated.js';

export interface ZoneSpec {
  name: ZoneName;
  startPfn: number;
  endPfn: number;
  holes?: Array<[number, number]>;
  /** Default: present minus the struct page cost (present / 64). */
  managed?: number;
  watermarks?: Watermarks;
  lowmemReserve?: number[];
  pcpHigh?: number;
  pcpBatch?: number;
}

export interface GuestSpec {
  profile?: ProfileName;
  /** Guest RAM in bytes (x86-64 q35 layout) when `zones` is not given. */
  memBytes?: number;
  zones?: ZoneSpec[];
  cpus?: number;
  pcp?: boolean;
  /** THP enabled in the guest: raises min_free_kbytes as set_recommended_min_free_kbytes does. Default true. */
  thp?: boolean;
}

const PAGE_SIZE = 4096;
const GiB = 1 << 30;
const DMA_END = 4096; // 16 MiB
const DMA32_END = 1 << 20; // 4 GiB

/**
 * x86-64 QEMU q35 layout: RAM below 4 GiB is capped at 2 GiB once the guest has 2.75 GiB or more, the rest is
 * mapped from 4 GiB up; pfn 0 is reserved by firmware, so DMA starts at 1.
 */
export function x86Zones(memBytes: number): ZoneSpec[] {
  if (typeof memBytes !== 'number' || !Number.isFinite(memBytes) || memBytes < 32 * 1024 * 1024) {
    throw new SimError('BAD_CONFIG', `guest memory ${memBytes} bytes is too small (at least 32 MiB)`, { field: 'memBytes', value: memBytes });
  }
  // A guest has whole pages; a fraction of one would be dropped without a word.
  if (!Number.isSafeInteger(memBytes) || memBytes % PAGE_SIZE !== 0) {
    throw new SimError('BAD_CONFIG', `guest memory ${memBytes} bytes is not a whole number of 4 KiB pages`, { field: 'memBytes', value: memBytes });
  }
  const pages = Math.floor(memBytes / PAGE_SIZE);
  const lowPages = memBytes >= 2.75 * GiB ? (2 * GiB) / PAGE_SIZE : pages;
  const zones: ZoneSpec[] = [{ name: 'DMA', startPfn: 1, endPfn: DMA_END }];
  zones.push({ name: 'DMA32', startPfn: DMA_END, endPfn: Math.min(lowPages, DMA32_END) });
  const high = pages - lowPages;
  if (high > 0) zones.push({ name: 'Normal', startPfn: DMA32_END, endPfn: DMA32_END + high });
  return zones;
}

function holePages(z: ZoneSpec): number {
  let n = 0;
  for (const [a, b] of z.holes ?? []) n += b - a;
  return n;
}

function intSqrt(x: number): number {
  return Math.floor(Math.sqrt(x));
}

/** 6.1 __setup_per_zone_wmarks over the given managed counts (all zones are lowmem on x86-64). */
export function computeWatermarks(managed: number[], thp: boolean, populated: number): Watermarks[] {
  const lowmemPages = managed.reduce((a, b) => a + b, 0);
  let minFreeKbytes = Math.min(262144, Math.max(128, intSqrt(lowmemPages * (PAGE_SIZE / 1024) * 16)));
  if (thp) {
    let rec = PAGEBLOCK_PAGES * populated * 2 + PAGEBLOCK_PAGES * populated * 3 * 3;
    rec = Math.min(rec, Math.floor(lowmemPages / 20));
    const recKb = rec * (PAGE_SIZE / 1024);
    if (recKb > minFreeKbytes) minFreeKbytes = recKb;
  }
  const pagesMin = minFreeKbytes >> 2;
  return managed.map((m) => {
    const min = lowmemPages ? Math.floor((pagesMin * m) / lowmemPages) : 0;
    const gap = Math.max(min >> 2, Math.floor((m * 10) / 10000));
    return { min, low: min + gap, high: min + 2 * gap };
  });
}

/** lowmem_reserve with sysctl_lowmem_reserve_ratio {DMA 256, DMA32 256, Normal 32, Movable 0}. */
export function computeLowmemReserve(managedByIndex: number[]): number[][] {
  const ratio = [256, 256, 32, 0];
  return managedByIndex.map((_, i) => {
    const r: number[] = [0, 0, 0, 0];
    let sum = 0;
    for (let j = i + 1; j < 4; j++) {
      sum += managedByIndex[j] ?? 0;
      r[j] = ratio[i] ? Math.floor(sum / ratio[i]!) : 0;
    }
    return r;
  });
}

export function zoneBatchsize(managed: number): number {
  let batch = Math.min(managed >> 10, (1024 * 1024) / PAGE_SIZE);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  const x = batch + (batch >> 1);
  const pow = 2 ** Math.floor(Math.log2(x));
  return Math.max(1, pow - 1);
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** The numbers of one zone spec: each a safe integer of the right sign (the range rules follow in resolveGuest). */
function checkZoneFields(z: ZoneSpec): void {
  const bad = (field: string, value: unknown, want: string) => {
    throw new SimError('BAD_CONFIG', `zone ${String(z.name)}: ${field} must be ${want}, got ${JSON.stringify(value) ?? String(value)}`, { zone: z.name, field, value });
  };
  if (z === null || typeof z !== 'object') throw new SimError('BAD_CONFIG', `a zone must be an object, got ${String(z)}`, { field: 'zones', value: z });
  if (!isInt(z.startPfn)) bad('startPfn', z.startPfn, 'an integer >= 0');
  if (!isInt(z.endPfn)) bad('endPfn', z.endPfn, 'an integer >= 0');
  if (z.holes !== undefined && (!Array.isArray(z.holes) || !z.holes.every((h) => Array.isArray(h) && h.length === 2 && isInt(h[0]) && isInt(h[1])))) {
    bad('holes', z.holes, 'an array of [startPfn, endPfn] integer pairs');
  }
  if (z.managed !== undefined && !isInt(z.managed)) bad('managed', z.managed, 'an integer >= 0');
  if (z.watermarks !== undefined && (z.watermarks === null || typeof z.watermarks !== 'object' || ![z.watermarks.min, z.watermarks.low, z.watermarks.high].every((v) => isInt(v)))) {
    bad('watermarks', z.watermarks, '{min, low, high} integers >= 0');
  }
  if (z.lowmemReserve !== undefined && (!Array.isArray(z.lowmemReserve) || !z.lowmemReserve.every((v) => isInt(v)))) {
    bad('lowmemReserve', z.lowmemReserve, 'an array of integers >= 0');
  }
  if (z.pcpHigh !== undefined && !isInt(z.pcpHigh)) bad('pcpHigh', z.pcpHigh, 'an integer >= 0');
  if (z.pcpBatch !== undefined && !isInt(z.pcpBatch, 1)) bad('pcpBatch', z.pcpBatch, 'an integer >= 1');
}

export function resolveGuest(spec: GuestSpec): GuestConfig {
  if (spec === null || typeof spec !== 'object') throw new SimError('BAD_CONFIG', `a guest spec must be an object, got ${String(spec)}`, { value: spec });
  const profileName = spec.profile ?? 'linux-6.1';
  const profile = getProfile(profileName);
  const cpus = spec.cpus ?? 2;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
    throw new SimError('BAD_CONFIG', `cpus must be an integer in 1..${MAX_CPUS}, got ${cpus}`, { field: 'cpus', value: cpus });
  }
  if (spec.zones !== undefined && !Array.isArray(spec.zones)) {
    throw new SimError('BAD_CONFIG', 'zones must be an array of zones', { field: 'zones', value: spec.zones });
  }
  if (spec.zones && spec.zones.length > 4) throw new SimError('BAD_CONFIG', `a guest has at most 4 zones, got ${spec.zones.length}`, { field: 'zones' });
  let zoneSpecs: ZoneSpec[];
  if (spec.zones && spec.zones.length) zoneSpecs = spec.zones;
  else if (spec.memBytes !== undefined) zoneSpecs = x86Zones(spec.memBytes);
  else throw new SimError('BAD_CONFIG', 'a guest needs memBytes or zones', {});

  zoneSpecs.forEach(checkZoneFields);
  const sorted = [...zoneSpecs].sort((a, b) => ZONE_NAMES.indexOf(a.name) - ZONE_NAMES.indexOf(b.name));
  const seen = new Set<string>();
  for (const z of sorted) {
    if (!ZONE_NAMES.includes(z.name)) {
      throw new SimError('BAD_CONFIG', `unknown zone name '${z.name}' (expected ${ZONE_NAMES.join(', ')})`, { field: 'name', value: z.name });
    }
    if (seen.has(z.name)) throw new SimError('BAD_CONFIG', `zone ${z.name} given twice`, { field: 'name', value: z.name });
    seen.add(z.name);
    if (!Number.isInteger(z.startPfn) || !Number.isInteger(z.endPfn) || z.startPfn < 0 || z.endPfn <= z.startPfn) {
      throw new SimError('BAD_CONFIG', `zone ${z.name}: pfn range [${z.startPfn}, ${z.endPfn}) holds no pages`, { zone: z.name, startPfn: z.startPfn, endPfn: z.endPfn });
    }
    for (const [a, b] of z.holes ?? []) {
      if (!(a >= z.startPfn && b <= z.endPfn && a < b)) {
        throw new SimError('BAD_CONFIG', `zone ${z.name}: hole [${a}, ${b}) is not inside [${z.startPfn}, ${z.endPfn})`, { zone: z.name, hole: [a, b] });
      }
    }
  }
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!, b = sorted[j]!;
      if (a.startPfn < b.endPfn && b.startPfn < a.endPfn) {
        throw new SimError('BAD_CONFIG', `zones ${a.name} [${a.startPfn}, ${a.endPfn}) and ${b.name} [${b.startPfn}, ${b.endPfn}) overlap`, { zones: [a.name, b.name] });
      }
    }
  }
  const present = sorted.map((z) => z.endPfn - z.startPfn - holePages(z));
  present.forEach((p, i) => {
    if (p <= 0) throw new SimError('BAD_CONFIG', `zone ${sorted[i]!.name} has no present pages`, { zone: sorted[i]!.name });
  });
  const managed = sorted.map((z, i) => {
    const m = z.managed ?? present[i]! - Math.ceil(present[i]! / 64);
    if (!Number.isInteger(m) || m < 0 || m > present[i]!) {
      throw new SimError('BAD_CONFIG', `zone ${z.name}: managed ${m} must be in 0..present (${present[i]})`, { zone: z.name, field: 'managed', value: m });
    }
    return m;
  });
  const wm = computeWatermarks(managed, spec.thp ?? true, sorted.length);
  const managedByIndex = [0, 0, 0, 0];
  sorted.forEach((z, i) => (managedByIndex[ZONE_NAMES.indexOf(z.name)] = managed[i]!));
  const reserve = computeLowmemReserve(managedByIndex);

  const zones: ZoneConfig[] = sorted.map((z, i) => {
    const index = ZONE_NAMES.indexOf(z.name);
    const watermarks = z.watermarks ?? wm[i]!;
    if (!(watermarks.min <= watermarks.low && watermarks.low <= watermarks.high)) {
      throw new SimError('BAD_CONFIG', `zone ${z.name}: watermarks must satisfy min <= low <= high`, { zone: z.name, watermarks });
    }
    const batch = z.pcpBatch ?? zoneBatchsize(managed[i]!);
    const high = z.pcpHigh ?? (profile.pcpFreeFactor
      ? Math.max(Math.floor(watermarks.low / cpus), batch << 2)
      : 6 * batch);
    return {
      name: z.name,
      index,
      startPfn: z.startPfn,
      endPfn: z.endPfn,
      holes: (z.holes ?? []).map(([a, b]) => [a, b] as [number, number]).sort((x, y) => x[0] - y[0]),
      present: present[i]!,
      managed: managed[i]!,
      watermarks: { ...watermarks },
      lowmemReserve: z.lowmemReserve ? [...z.lowmemReserve] : sorted.map((zj) => reserve[index]![ZONE_NAMES.indexOf(zj.name)]!),
      pcpHigh: high,
      pcpBatch: batch,
    };
  });
  const maxPfn = Math.max(...zones.map((z) => z.endPfn));
  if (maxPfn > MAX_PFN) throw new SimError('TOO_LARGE', `zones end at pfn ${maxPfn}; the simulator's pfns are 32-bit (at most ${MAX_PFN})`, { maxPfn });
  return { profile: profileName, zones, maxPfn, cpus, pcp: spec.pcp ?? true };
}

type PfnRange = { zone: number; start: number; end: number };

/**
 * The pfn ranges of managed pages: present, not reserved. Reserved pages (present - managed of each zone) are the
 * zone's highest present pfns, where memblock's top-down boot allocations sit. Boot frees these ranges.
 */
export function managedRanges(config: GuestConfig): PfnRange[] {
  return presentRanges(config).managed;
}

/** The reserved pages' ranges (present, not managed): the memmap, the kernel image, memblock's allocations. */
export function reservedRanges(config: GuestConfig): PfnRange[] {
  return presentRanges(config).reserved;
}

function presentRanges(config: GuestConfig): { managed: PfnRange[]; reserved: PfnRange[] } {
  const managed: PfnRange[] = [];
  const reserved: PfnRange[] = [];
  config.zones.forEach((z, i) => {
    let left = z.present - z.managed;
    const segs: Array<[number, number]> = [];
    let s = z.startPfn;
    for (const [a, b] of z.holes) {
      if (a > s) segs.push([s, a]);
      s = b;
    }
    if (z.endPfn > s) segs.push([s, z.endPfn]);
    const top: PfnRange[] = [];
    for (let k = segs.length - 1; k >= 0 && left > 0; k--) {
      const [a, b] = segs[k]!;
      const take = Math.min(left, b - a);
      segs[k] = [a, b - take];
      top.unshift({ zone: i, start: b - take, end: b });
      left -= take;
    }
    for (const [a, b] of segs) if (b > a) managed.push({ zone: i, start: a, end: b });
    reserved.push(...top);
  });
  return { managed, reserved };
}

/** Largest pfn span a guest can have: pfns are u32 in wasm and NIL (0xffffffff) marks the end of a list. */
const MAX_PFN = NIL - 1;

/**
 * A resolved GuestConfig, checked before it reaches wasm (a config built by hand rather than by resolveGuest
 * could put zones past maxPfn, where setup would write outside the page descriptors).
 */
export function checkGuestConfig(c: GuestConfig): void {
  const bad = (message: string, details: Record<string, unknown> = {}) => {
    throw new SimError('BAD_CONFIG', `guest config: ${message}`, details);
  };
  if (c === null || typeof c !== 'object') bad(`expected an object (resolveGuest makes one), got ${String(c)}`);
  getProfile(c.profile);
  if (!isInt(c.maxPfn, 1) || c.maxPfn > MAX_PFN) bad(`maxPfn must be an integer 1..${MAX_PFN}, got ${c.maxPfn}`, { maxPfn: c.maxPfn });
  if (!isInt(c.cpus, 1) || c.cpus > MAX_CPUS) bad(`cpus must be an integer 1..${MAX_CPUS}, got ${c.cpus}`, { cpus: c.cpus });
  if (!Array.isArray(c.zones) || c.zones.length < 1 || c.zones.length > 4) bad('zones must be an array of 1..4 zones', { zones: c.zones });
  c.zones.forEach((z, i) => {
    const where = `zone ${i} (${String(z?.name)})`;
    if (z === null || typeof z !== 'object' || !ZONE_NAMES.includes(z.name)) bad(`${where}: unknown zone`, { zone: i });
    if (!isInt(z.startPfn) || !isInt(z.endPfn) || z.startPfn >= z.endPfn || z.endPfn > c.maxPfn) {
      bad(`${where}: [${z.startPfn}, ${z.endPfn}) is not a non-empty range inside [0, maxPfn ${c.maxPfn})`, { zone: i });
    }
    for (let j = 0; j < i; j++) {
      const o = c.zones[j]!;
      if (z.startPfn < o.endPfn && o.startPfn < z.endPfn) bad(`${where} overlaps zone ${j} (${o.name})`, { zone: i });
      if (o.name === z.name) bad(`${where}: zone ${z.name} given twice`, { zone: i });
    }
    if (!Array.isArray(z.holes)) bad(`${where}: holes must be an array`, { zone: i });
    let at = z.startPfn, holes = 0;
    for (const h of z.holes) {
      if (!Array.isArray(h) || !isInt(h[0]) || !isInt(h[1]) || h[0] < at || h[1] <= h[0] || h[1] > z.endPfn) {
        bad(`${where}: holes must be ascending, disjoint ranges inside the zone`, { zone: i, hole: h });
      }
      holes += h[1] - h[0];
      at = h[1];
    }
    if (z.present !== z.endPfn - z.startPfn - holes || z.present < 1) bad(`${where}: present ${z.present} differs from its span minus holes (${z.endPfn - z.startPfn - holes})`, { zone: i });
    if (!isInt(z.managed) || z.managed > z.present) bad(`${where}: managed ${z.managed} must be 0..present (${z.present})`, { zone: i });
    const w = z.watermarks;
    if (!w || !isInt(w.min) || !isInt(w.low) || !isInt(w.high) || w.min > w.low || w.low > w.high || w.high > 2 ** 32 - 1) {
      bad(`${where}: watermarks must be integers with min <= low <= high`, { zone: i });
    }
    if (!Array.isArray(z.lowmemReserve) || !z.lowmemReserve.every((v) => isInt(v) && v <= 2 ** 32 - 1)) bad(`${where}: lowmemReserve must be integers >= 0`, { zone: i });
    if (!isInt(z.pcpHigh) || z.pcpHigh > 2 ** 31 - 1 || !isInt(z.pcpBatch, 1) || z.pcpBatch > 2 ** 31 - 1) bad(`${where}: pcpHigh must be an integer >= 0 and pcpBatch >= 1`, { zone: i });
  });
}
