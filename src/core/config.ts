// Guest configuration: from a size or explicit zones to a fully resolved GuestConfig, with the kernel's
// formulas for watermarks (6.1 __setup_per_zone_wmarks), lowmem_reserve and per-cpu high/batch
// (6.1 zone_batchsize/zone_highsize; 5.7 high = 6 * batch).
import { SimError } from './errors.js';
import { getProfile } from './profiles.js';
import {
  type GuestConfig, type ProfileName, type Watermarks, type ZoneConfig, type ZoneName,
  MAX_CPUS, PAGEBLOCK_PAGES, ZONE_NAMES,
} from './types.js';

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
  if (!Number.isFinite(memBytes) || memBytes < 32 * 1024 * 1024) {
    throw new SimError('BAD_CONFIG', `guest memory ${memBytes} bytes is too small (at least 32 MiB)`, { memBytes });
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

export function resolveGuest(spec: GuestSpec): GuestConfig {
  const profileName = spec.profile ?? 'linux-6.1';
  const profile = getProfile(profileName);
  const cpus = spec.cpus ?? 2;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
    throw new SimError('BAD_CONFIG', `cpus must be an integer in 1..${MAX_CPUS}, got ${cpus}`, { field: 'cpus', value: cpus });
  }
  let zoneSpecs: ZoneSpec[];
  if (spec.zones && spec.zones.length) zoneSpecs = spec.zones;
  else if (spec.memBytes !== undefined) zoneSpecs = x86Zones(spec.memBytes);
  else throw new SimError('BAD_CONFIG', 'a guest needs memBytes or zones', {});

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
  return { profile: profileName, zones, maxPfn, cpus, pcp: spec.pcp ?? true };
}

/**
 * The pfn ranges of managed pages: present, not reserved. Reserved pages (present - managed of each zone) are the
 * zone's highest present pfns, where memblock's top-down boot allocations sit. Boot frees these ranges.
 */
export function managedRanges(config: GuestConfig): Array<{ zone: number; start: number; end: number }> {
  const out: Array<{ zone: number; start: number; end: number }> = [];
  config.zones.forEach((z, i) => {
    let reserved = z.present - z.managed;
    const segs: Array<[number, number]> = [];
    let s = z.startPfn;
    for (const [a, b] of z.holes) {
      if (a > s) segs.push([s, a]);
      s = b;
    }
    if (z.endPfn > s) segs.push([s, z.endPfn]);
    for (let k = segs.length - 1; k >= 0 && reserved > 0; k--) {
      const [a, b] = segs[k]!;
      const take = Math.min(reserved, b - a);
      segs[k] = [a, b - take];
      reserved -= take;
    }
    for (const [a, b] of segs) if (b > a) out.push({ zone: i, start: a, end: b });
  });
  return out;
}
