// A real-kernel run folder (../shared/real-kernel/<run>/) read from disk into a Run (./run.ts). Small files are
// read at once; the kpageflags dumps, the trace and the serial log are read only when asked for (and then kept).
// Node only: it reads the file system.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError, SimError } from '../core/errors.js';
import { parseBuddyinfo } from './buddyinfo.js';
import { parseBlocksCsv, parsePassesCsv, parseRamCsv, parseReportsCsv, parseRssCsv, parseSummaryJson } from './csv.js';
import { readFtraceFile, readFtraceFileSync } from './ftrace.js';
import { type FreeBlock, type KpageflagsBlocks, decodeKpageflags } from './kpageflags.js';
import { parsePagetypeinfo } from './pagetypeinfo.js';
import { memoryRangesFromDmesg, parseZoneinfo, populatedZones } from './zoneinfo.js';
import type { ProcSnapshot, Run, SerialLine } from './run.js';

export type { ProcSnapshot, Run, SerialLine } from './run.js';

function lazy<T>(fn: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = fn();
      done = true;
    }
    return value;
  };
}

/** `name value` lines (vmstat) or `Name:   value kB` lines (meminfo). */
function parseNameValues(text: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const m = /^(\S+?):?\s+(-?\d+)(?:\s+kB)?\s*$/.exec(line);
    if (!m) throw new ParseError(file, i + 1, `expected 'name value', got '${line}'`, { field: line.split(/\s+/)[0], value: line });
    out[m[1]!] = Number(m[2]);
  });
  return out;
}

function parseSerial(text: string, file: string, warnings: string[]): SerialLine[] {
  const out: SerialLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line === '') return;
    const tab = line.indexOf('\t');
    const t = Number(line.slice(0, tab));
    if (tab < 0 || !Number.isFinite(t)) {
      if (i >= lines.length - 2 && !lines.slice(i + 1).some((l) => l.trim() !== '')) {
        warnings.push(`${file}:${i + 1}: truncated last line skipped`);
        return;
      }
      throw new ParseError(file, i + 1, `expected '<t_host_s>\\t<line>', got '${line.slice(0, 60)}'`, { field: 't_host_s', value: line.slice(0, Math.max(tab, 0)) });
    }
    const s: SerialLine = { tHost: t, text: line.slice(tab + 1) };
    const m = /^@([A-Z]) (\d+(?:\.\d+)?)\s?(.*)$/.exec(s.text);
    if (m) s.record = { kind: m[1]!, tGuest: Number(m[2]), fields: m[3] ? m[3].split(/\s+/) : [] };
    out.push(s);
  });
  return out;
}

/**
 * A /proc snapshot as recorded: if it does not parse, it is read again without its last line (cut short when the
 * recorder stopped); if that fails too, the snapshot is left out. Either way a warning says so, and whatever
 * needs the snapshot reports its absence.
 */
function readSnapshot(t: string, path: string, parse: (t: string) => void, warnings: string[]): void {
  try {
    parse(t);
    return;
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    const lines = t.replace(/\n+$/, '').split('\n');
    if (lines.length > 1) {
      try {
        parse(lines.slice(0, -1).join('\n') + '\n');
        warnings.push(`${path}:${lines.length}: truncated last line skipped`);
        return;
      } catch { /* not only the last line: left out below */ }
    }
    warnings.push(`${path}: left out (${e.message})`);
  }
}
const RUN_FILES = /^(serial\.log|summary\.json|meta\.json|rss\.csv|ram\.csv|reports\.csv|passes\.csv|kpageflags\.\w+\.blocks\.csv)$/;

const PROC_KINDS = ['buddyinfo', 'pagetypeinfo', 'zoneinfo', 'vmstat', 'meminfo'] as const;

/** Everything present in a run folder. Missing files leave their field undefined (or their map empty). */
export function loadRun(dir: string): Run {
  const at = (...p: string[]) => join(dir, ...p);
  const text = (path: string) => readFileSync(path, 'utf8');
  const warnings: string[] = [];
  const ifExists = <T>(path: string, parse: (t: string, file: string, opts: { warnings: string[] }) => T): T | undefined =>
    existsSync(path) ? parse(text(path), path, { warnings }) : undefined;
  const guestDir = at('guest');
  const guestFiles = existsSync(guestDir) ? readdirSync(guestDir) : [];
  const rootFiles = readdirSync(dir);
  // A folder with none of a run's files (empty, or the wrong folder) is not a run with everything missing.
  if (!guestFiles.length && !rootFiles.some((f) => RUN_FILES.test(f))) {
    throw new SimError('PARSE', `${dir}: not a run folder: it holds none of guest/, serial.log, summary.json, meta.json, rss.csv, ram.csv, reports.csv, passes.csv, kpageflags.*.blocks.csv`, { file: dir, field: 'folder' });
  }

  const proc: Record<string, ProcSnapshot> = {};
  for (const f of guestFiles) {
    const m = /^(\w+)\.(buddyinfo|pagetypeinfo|zoneinfo|vmstat|meminfo)$/.exec(f);
    if (!m) continue;
    const snap = (proc[m[1]!] ??= {});
    const kind = m[2] as (typeof PROC_KINDS)[number];
    const path = join(guestDir, f);
    const parse = (t: string) => {
      if (kind === 'buddyinfo') snap.buddyinfo = parseBuddyinfo(t, path);
      else if (kind === 'pagetypeinfo') snap.pagetypeinfo = parsePagetypeinfo(t, path);
      else if (kind === 'zoneinfo') snap.zoneinfo = parseZoneinfo(t, path);
      else snap[kind] = parseNameValues(t, path);
    };
    readSnapshot(text(path), path, parse, warnings);
  }

  const zoneinfo = proc['pre']?.zoneinfo ?? Object.values(proc).find((s) => s.zoneinfo)?.zoneinfo;
  const zoneBounds: Array<[number, number]> = zoneinfo
    ? populatedZones(zoneinfo).filter((z) => z.startPfn !== undefined).map((z) => [z.startPfn!, z.startPfn! + z.spanned])
    : [];

  const blocks: Record<string, FreeBlock[]> = {};
  for (const f of rootFiles) {
    const m = /^kpageflags\.(\w+)\.blocks\.csv$/.exec(f);
    if (m) blocks[m[1]!] = parseBlocksCsv(text(at(f)), at(f), { warnings });
  }

  const kpageflags: Record<string, () => KpageflagsBlocks> = {};
  for (const f of guestFiles) {
    const m = /^kpageflags\.(\w+)\.bin(\.gz)?$/.exec(f);
    if (!m) continue;
    const path = join(guestDir, f);
    kpageflags[m[1]!] = lazy(() => decodeKpageflags(readFileSync(path), { zoneBounds, file: path }));
  }

  const traceName = ['trace.txt', 'trace.txt.gz'].find((n) => guestFiles.includes(n));
  const trace = traceName
    ? {
      path: join(guestDir, traceName),
      // A pfn outside the guest's memory map is refused with the trace's file and line.
      events: () => readFtraceFileSync(join(guestDir, traceName), traceOpts()),
      stream: () => readFtraceFile(join(guestDir, traceName), traceOpts()),
    }
    : undefined;

  const dmesg = at('guest', 'dmesg.txt');
  const ranges = existsSync(dmesg) ? memoryRangesFromDmesg(text(dmesg)) : [];
  const traceOpts = () => ({ warnings, ...(ranges.length ? { pfnRanges: ranges } : zoneBounds.length ? { pfnRanges: zoneBounds } : {}) });
  const serialPath = at('serial.log');
  const serial = lazy(() => (existsSync(serialPath) ? parseSerial(text(serialPath), serialPath, warnings) : []));

  const meta = ifExists(at('meta.json'), (t, file) => {
    try {
      return JSON.parse(t) as Record<string, unknown>;
    } catch (e) {
      throw new ParseError(file, 1, `invalid JSON: ${(e as Error).message}`, { field: 'json', value: (e as Error).message });
    }
  });

  return {
    dir,
    name: dir.replace(/\/+$/, '').split('/').pop()!,
    warnings,
    summary: ifExists(at('summary.json'), parseSummaryJson),
    meta,
    reports: ifExists(at('reports.csv'), parseReportsCsv),
    passes: ifExists(at('passes.csv'), parsePassesCsv),
    rss: ifExists(at('rss.csv'), parseRssCsv),
    ram: ifExists(at('ram.csv'), parseRamCsv),
    blocks,
    proc,
    ...(ranges.length ? { memoryRanges: ranges } : {}),
    zoneBounds,
    kpageflags,
    ...(trace ? { trace } : {}),
    serial,
    guestText: (name: string) => {
      if (name.includes('/')) return undefined;
      const p = join(guestDir, name);
      return existsSync(p) ? text(p) : undefined;
    },
  };
}
