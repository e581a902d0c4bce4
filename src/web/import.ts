// Dropped files (a /proc snapshot, a kpageflags dump, or a whole run folder) → a guest in that state, built with
// the same importers as `prsim import --format state`: zones and watermarks from zoneinfo (holes from the run's
// dmesg when there is one), then the free blocks exactly from the kpageflags dump of the snapshot, else laid out
// count for count from its buddyinfo and pagetypeinfo. A run folder picks the `pre` snapshot, as the CLI does.
// Runs in the worker (it builds a wasm guest); browser-safe: gzip is undone here with fflate.
import { gunzipSync } from 'fflate';
import { parseBuddyinfo, type BuddyinfoRow } from '../importers/buddyinfo.js';
import { parsePagetypeinfo, type Pagetypeinfo } from '../importers/pagetypeinfo.js';
import { cpusFromZoneinfo, memoryRangesFromDmesg, parseZoneinfo, zoneSpecsFromZoneinfo, type Zoneinfo } from '../importers/zoneinfo.js';
import { isGzip } from '../importers/kpageflags.js';
import { parseRamCsv, parseRssCsv, parseSummaryJson } from '../importers/csv.js';
import { guestFromProc } from '../importers/start-state.js';
import { buddyinfoText } from '../importers/procfs.js';
import type { ZoneSpec } from '../core/config.js';
import type { GuestStartState } from '../core/types.js';

export interface DroppedFile {
  /** Path inside what was dropped (a folder's files keep their relative path). */
  path: string;
  bytes: Uint8Array;
}

export interface Imported {
  /** What was built, in words (files and snapshot used). */
  description: string;
  /** The run folder's name, when it was one. */
  run?: string;
  tag: string;
  source: 'kpageflags' | 'buddyinfo';
  zones: ZoneSpec[];
  cpus: number;
  state: GuestStartState;
  /** The built guest's /proc/buddyinfo (what `prsim import --format state` prints). */
  buddyinfo: string;
  /** The run's guest-RAM RSS (ram.csv, else the QEMU process from rss.csv), t in guest seconds from the snapshot. */
  real?: { name: string; points: Array<[number, number]> };
  /** A memhog run's timing, on the same clock (the page sets its workload from it). */
  memhog?: { startS: number; mib: number; rateMiBps: number; holdS: number; freeRateMiBps: number; durationS: number };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const base = (p: string) => p.split('/').pop()!;

/** Snapshot files by tag: `pre.buddyinfo` → pre; a bare `buddyinfo` (or `anything_buddyinfo`) → ''. */
function tagOf(name: string, kind: string): string | null {
  if (name === kind) return '';
  const m = new RegExp(`^(.*?)[._-]?${kind}(\\.txt)?$`).exec(name);
  return m ? m[1]! : null;
}

export function importFiles(files: DroppedFile[]): Imported {
  if (!files.length) throw new Error('nothing to import');
  // Each snapshot's parsed files, and the names they came under (for saying what was used).
  const byTag = new Map<string, { buddyinfo?: BuddyinfoRow[]; pagetypeinfo?: Pagetypeinfo; zoneinfo?: Zoneinfo; names: Record<string, string> }>();
  const dumps = new Map<string, DroppedFile>();
  let dmesg: string | undefined, ram: DroppedFile | undefined, rss: DroppedFile | undefined, summary: DroppedFile | undefined;
  const runDirs = new Set<string>();
  for (const f of files) {
    const name = base(f.path);
    const dirs = f.path.split('/').slice(0, -1);
    const runDir = dirs[dirs.length - 1] === 'guest' ? dirs[dirs.length - 2] : dirs[dirs.length - 1];
    if (runDir) runDirs.add(runDir);
    let matched = false;
    for (const kind of ['buddyinfo', 'pagetypeinfo', 'zoneinfo'] as const) {
      const tag = tagOf(name, kind);
      if (tag === null) continue;
      const snap = byTag.get(tag) ?? { names: {} };
      byTag.set(tag, snap);
      snap.names[kind] = name;
      if (kind === 'buddyinfo') snap.buddyinfo = parseBuddyinfo(text(f.bytes), f.path);
      else if (kind === 'pagetypeinfo') snap.pagetypeinfo = parsePagetypeinfo(text(f.bytes), f.path);
      else snap.zoneinfo = parseZoneinfo(text(f.bytes), f.path);
      matched = true;
    }
    if (matched) continue;
    // kpageflags[.<tag>][.bin][.gz]: `kpageflags.bin.gz` is an untagged dump, not the snapshot 'bin'.
    const dump = /^kpageflags(?:\.(?!(?:bin|gz)(?:\.|$))(\w+))?(?:\.bin)?(?:\.gz)?$/.exec(name);
    if (dump && !name.endsWith('.csv')) dumps.set(dump[1] ?? '', f);
    else if (name === 'dmesg.txt') dmesg = text(f.bytes);
    else if (name === 'ram.csv') ram = f;
    else if (name === 'rss.csv') rss = f;
    else if (name === 'summary.json') summary = f;
  }
  const isRun = summary !== undefined || byTag.has('pre');
  // The snapshot: `pre` for a run folder (as prsim import --format state), else the one there is.
  // Only a tag with a buddyinfo or a dump is a snapshot (`guest.buddyinfo` + a bare `zoneinfo` is one, tagged guest).
  const tags = [...new Set([...byTag.keys(), ...dumps.keys()])];
  const usable = tags.filter((t) => byTag.get(t)?.buddyinfo || dumps.has(t));
  const tag = isRun && usable.includes('pre') ? 'pre' : usable.includes('') ? '' : usable[0] ?? tags[0];
  if (tag === undefined) throw new Error('found no buddyinfo, pagetypeinfo, zoneinfo or kpageflags file among what was dropped');
  const snap = byTag.get(tag) ?? { names: {} };
  const zoneSnap = snap.zoneinfo ? snap : byTag.get('pre')?.zoneinfo ? byTag.get('pre')! : [...byTag.values()].find((s) => s.zoneinfo);
  const zoneinfo = zoneSnap?.zoneinfo;
  if (!zoneinfo) throw new Error(`no zoneinfo: a snapshot needs /proc/zoneinfo of the same guest (drop it with the ${snap.buddyinfo ? 'buddyinfo' : 'dump'})`);
  const dumpFile = dumps.get(tag);
  if (!dumpFile && !snap.buddyinfo) throw new Error(`snapshot '${tag || 'dropped'}' has neither a kpageflags dump nor a buddyinfo`);
  const memoryRanges = dmesg ? memoryRangesFromDmesg(dmesg) : [];
  const guest = guestFromProc({
    zoneinfo,
    ...(memoryRanges.length ? { memoryRanges } : {}),
    ...(dumpFile
      ? { kpageflags: isGzip(dumpFile.bytes) ? gunzipSync(dumpFile.bytes) : dumpFile.bytes }
      : { buddyinfo: snap.buddyinfo!, ...(snap.pagetypeinfo ? { pagetypeinfo: snap.pagetypeinfo } : {}) }),
  });
  guest.check();
  const zones = zoneSpecsFromZoneinfo(zoneinfo, memoryRanges.length ? { memoryRanges } : {});
  const used = dumpFile ? [dumpFile.path] : [snap.names['buddyinfo']!, ...(snap.pagetypeinfo ? [snap.names['pagetypeinfo']!] : [])];
  const out: Imported = {
    description: `${used.join(' + ')} with ${zoneSnap!.names['zoneinfo']}${memoryRanges.length ? ' and dmesg.txt' : ''}`,
    tag,
    source: dumpFile ? 'kpageflags' : 'buddyinfo',
    zones,
    cpus: cpusFromZoneinfo(zoneinfo) || 1,
    state: guest.startState(),
    buddyinfo: buddyinfoText(guest),
  };
  if (isRun && runDirs.size === 1) out.run = [...runDirs][0]!;

  // The real curve and the workload's timing, on the guest clock with t = 0 at the snapshot.
  if (summary) {
    const s = parseSummaryJson(text(summary.bytes), summary.path);
    const m = s.markers_guest_s;
    const off = s.clock_offset_host_minus_guest_s;
    const t0 = m['settle_done'] ?? m['alloc_start'] ?? 0;
    const name = out.run ?? 'real run';
    if (ram) {
      const rows = parseRamCsv(text(ram.bytes), ram.path);
      out.real = { name: `${name}: real guest RAM (ram.csv)`, points: rows.map((r) => [r.tHost - off - t0, r.ramRssKib / 1024]) };
    } else if (rss) {
      const rows = parseRssCsv(text(rss.bytes), rss.path);
      out.real = { name: `${name}: real QEMU RSS (rss.csv)`, points: rows.map((r) => [r.tHost - off - t0, r.vmRssKib / 1024]) };
    }
    if (out.real) out.real.points = out.real.points.filter(([t]) => t >= 0);
    const a = m['alloc_start'], ad = m['alloc_done'], f = m['free_start'], fd = m['free_done'];
    if (a !== undefined && ad !== undefined && f !== undefined && fd !== undefined) {
      const mib = Number(/MIB=(\d+)/.exec(String(s['append'] ?? ''))?.[1]) || 512;
      out.memhog = {
        startS: +(a - t0).toFixed(3), mib,
        rateMiBps: +(mib / Math.max(0.05, ad - a)).toFixed(1),
        holdS: +(f - ad).toFixed(3),
        freeRateMiBps: +(mib / Math.max(0.05, fd - f)).toFixed(1),
        durationS: Math.ceil(Math.min(f + 30, m['idle_end'] ?? f + 30) - t0),
      };
    }
  }
  return out;
}
