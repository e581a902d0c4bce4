// prsim import <dir-or-file>: read real-kernel data (a run folder of ../shared/real-kernel, or one of its files)
// and print what it holds; --format buddyinfo prints a snapshot back as /proc/buddyinfo text, --format zones the
// zone table as scenario JSON (to paste into a scenario's "zones").
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { formatBuddyinfo, parseBuddyinfo } from '../importers/buddyinfo.js';
import { parseBlocksCsv, parsePassesCsv, parseRamCsv, parseReportsCsv, parseRssCsv, parseSummaryJson } from '../importers/csv.js';
import { readFtraceFile } from '../importers/ftrace.js';
import { decodeKpageflags } from '../importers/kpageflags.js';
import { parsePagetypeinfo } from '../importers/pagetypeinfo.js';
import { loadRun, type Run } from '../importers/run-folder.js';
import { cpusFromZoneinfo, memoryRangesFromDmesg, parseZoneinfo, populatedZones, zoneSpecsFromZoneinfo, type Zoneinfo } from '../importers/zoneinfo.js';
import {
  buddyinfoSummary, kpageflagsSummary, pagetypeinfoSummary, passesSummary, rssSummary, runSummary, zoneinfoSummary,
} from '../report/real-run.js';
import { prettyJson } from '../report/json.js';
import { guestFromProc } from '../importers/start-state.js';
import { buddyinfoText } from '../importers/procfs.js';
import { resolveGuest } from '../core/config.js';
import { SimError } from '../core/errors.js';
import { MAX_CPUS } from '../core/types.js';
import { choiceOption, parse } from './args.js';
import type { Io } from './io.js';
import { UsageError } from './usage-error.js';

export const IMPORT_USAGE = `usage: prsim import <run-dir-or-file> [--format summary|buddyinfo|zones|state] [--tag end]

Read real-kernel data: a run folder (../shared/real-kernel/E2_memhog512_r1) or one file of it (*.buddyinfo,
*.zoneinfo, *.pagetypeinfo, reports.csv, passes.csv, rss.csv, ram.csv, *.blocks.csv, summary.json,
kpageflags.*.bin[.gz], trace.txt[.gz]) and print a summary.

options:
  --format summary     what the data holds (default)
  --format buddyinfo   a snapshot as /proc/buddyinfo text (a run folder: the --tag snapshot, default end)
  --format zones       the zones as scenario JSON ("zones" of a guest), from a zoneinfo file or a run folder
  --format state       build a simulated guest in the --tag snapshot's state (from its kpageflags dump when the
                       run has one, else laid out to match its buddyinfo and pagetypeinfo) and print the
                       simulator's own /proc/buddyinfo of it
  --tag <tag>          snapshot of a run folder: pre, held, end... (default: end; pre for zones and state)
`;

const FORMATS = ['summary', 'buddyinfo', 'zones', 'state'] as const;
type Format = (typeof FORMATS)[number];

function zonesJson(info: Zoneinfo, file: string, ranges?: Array<[number, number]>): string {
  const zones = zoneSpecsFromZoneinfo(info, ranges && ranges.length ? { memoryRanges: ranges } : {});
  const cpus = cpusFromZoneinfo(info);
  // Printed zones are meant for a scenario: they must make a guest, or the problem is named here, not there.
  try {
    resolveGuest({ zones, cpus: Math.min(Math.max(cpus, 1), MAX_CPUS) });
  } catch (e) {
    if (e instanceof SimError) throw new SimError(e.code, `${file}: these zones make no guest: ${e.message}`, { file, ...e.details });
    throw e;
  }
  return prettyJson({ cpus, zones }) + '\n';
}

/** Lines a reader skipped (empty samples, a cut last line): on stderr, so stdout stays the requested output. */
function warn(io: Io, warnings: readonly string[]): void {
  for (const w of warnings) io.err(`prsim: warning: ${w}\n`);
}

function importRun(io: Io, dir: string, format: Format, tag: string | undefined): string {
  const run: Run = loadRun(dir);
  run.serial();
  warn(io, run.warnings);
  if (format === 'summary') return runSummary(run);
  const tags = Object.keys(run.proc);
  if (format === 'zones') {
    const t = tag ?? 'pre';
    const zi = run.proc[t]?.zoneinfo;
    if (!zi) throw new UsageError(`import: ${dir} has no ${t}.zoneinfo (snapshots: ${tags.join(', ') || 'none'})`);
    return zonesJson(zi, dir, run.memoryRanges);
  }
  if (format === 'state') {
    const t = tag ?? 'pre';
    const snap = run.proc[t];
    const zoneinfo = snap?.zoneinfo ?? run.proc['pre']?.zoneinfo;
    if (!zoneinfo) throw new UsageError(`import: ${dir} has no ${t}.zoneinfo (snapshots: ${tags.join(', ') || 'none'})`);
    const dump = run.kpageflags[t];
    if (!dump && !snap?.buddyinfo) {
      throw new UsageError(`import: ${dir} has neither kpageflags.${t}.bin nor ${t}.buddyinfo (snapshots: ${tags.join(', ') || 'none'})`);
    }
    const guest = guestFromProc({
      zoneinfo, memoryRanges: run.memoryRanges, ...(dump ? { kpageflags: dump() } : { buddyinfo: snap?.buddyinfo, pagetypeinfo: snap?.pagetypeinfo }),
    });
    guest.check();
    return buddyinfoText(guest);
  }
  const t = tag ?? 'end';
  const rows = run.proc[t]?.buddyinfo;
  if (!rows) throw new UsageError(`import: ${dir} has no ${t}.buddyinfo (snapshots: ${tags.join(', ') || 'none'})`);
  return formatBuddyinfo(rows);
}

/**
 * The memory map of the guest a trace came from, from the files recorded next to it: dmesg's memory ranges, else
 * the spans of a zoneinfo's populated zones. A page event outside it is refused; none found, none checked.
 */
function memoryMapNear(path: string): Array<[number, number]> | undefined {
  const dir = dirname(path);
  const dmesg = join(dir, 'dmesg.txt');
  if (existsSync(dmesg)) {
    const ranges = memoryRangesFromDmesg(readFileSync(dmesg, 'utf8'));
    if (ranges.length) return ranges;
  }
  const zoneinfo = ['pre.zoneinfo', 'kpf_pre.zoneinfo', ...readdirSync(dir).filter((f) => f.endsWith('.zoneinfo')).sort()]
    .map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!zoneinfo) return undefined;
  return populatedZones(parseZoneinfo(readFileSync(zoneinfo, 'utf8'), zoneinfo))
    .filter((z) => z.startPfn !== undefined).map((z) => [z.startPfn!, z.startPfn! + z.spanned]);
}

/** One file, recognised by its name. */
async function importFile(io: Io, path: string, format: Format): Promise<string> {
  const name = basename(path);
  const text = () => readFileSync(path, 'utf8');
  const warnings: string[] = [];
  try {
    return await importFileText(path, name, text, format, warnings);
  } finally {
    warn(io, warnings);
  }
}

async function importFileText(path: string, name: string, text: () => string, format: Format, warnings: string[]): Promise<string> {
  const only = (what: Format) => {
    if (format !== 'summary' && format !== what) throw new UsageError(`import: --format ${format} does not apply to ${name}`);
  };
  if (/buddyinfo$/.test(name)) {
    only('buddyinfo');
    const rows = parseBuddyinfo(text(), path);
    return format === 'buddyinfo' ? formatBuddyinfo(rows) : buddyinfoSummary(rows);
  }
  if (/zoneinfo$/.test(name)) {
    only('zones');
    const info = parseZoneinfo(text(), path);
    if (format === 'zones') {
      // The holes are exact when the run's dmesg sits next to the file.
      const dmesg = resolve(path, '..', 'dmesg.txt');
      return zonesJson(info, path, existsSync(dmesg) ? memoryRangesFromDmesg(readFileSync(dmesg, 'utf8')) : undefined);
    }
    return zoneinfoSummary(info);
  }
  only('summary');
  if (/pagetypeinfo$/.test(name)) return pagetypeinfoSummary(parsePagetypeinfo(text(), path));
  if (name === 'passes.csv') return passesSummary(parsePassesCsv(text(), path, { warnings })) + '\n';
  if (name === 'reports.csv') {
    const rows = parseReportsCsv(text(), path, { warnings });
    return `${rows.length} reported blocks, ${(rows.reduce((a, r) => a + r.bytes, 0) / 2 ** 20).toFixed(1)} MiB in ${new Set(rows.map((r) => `${r.pass}/${r.batch}`)).size} report() calls\n`;
  }
  if (name === 'rss.csv') return rssSummary(parseRssCsv(text(), path, { warnings })) + '\n';
  if (name === 'ram.csv') {
    const rows = parseRamCsv(text(), path, { warnings });
    const peak = rows.reduce((a, r) => Math.max(a, r.ramRssKib), 0);
    return `${rows.length} samples: guest RAM resident peak ${(peak / 1024).toFixed(1)} MiB, final ${((rows[rows.length - 1]?.ramRssKib ?? 0) / 1024).toFixed(1)} MiB\n`;
  }
  if (/\.blocks\.csv$/.test(name)) {
    const blocks = parseBlocksCsv(text(), path, { warnings });
    const pages = blocks.reduce((a, b) => a + 2 ** b.order, 0);
    return `${blocks.length} free blocks, ${(pages / 256).toFixed(1)} MiB, ${blocks.filter((b) => b.reported).length} reported\n`;
  }
  if (name === 'summary.json') {
    const s = parseSummaryJson(text(), path);
    return `${s.name}: ${s.mem_mib} MiB, ${s.smp} cpus, order ${s.page_reporting_order_effective}, ${s.all_passes} passes, ${s.all_batches} batches, ${(s.all_reported_bytes / 2 ** 20).toFixed(1)} MiB reported\n`;
  }
  if (/^kpageflags.*\.bin(\.gz)?$/.test(name)) return kpageflagsSummary(decodeKpageflags(readFileSync(path), { file: path })) + '\n';
  if (/^trace\.txt(\.gz)?$/.test(name)) {
    const counts = new Map<string, number>();
    const pfnRanges = memoryMapNear(path);
    // Streamed: a trace may be larger than a string can hold.
    for await (const ev of readFtraceFile(path, pfnRanges ? { pfnRanges } : {})) {
      const k = ev.event === 'other' ? ev.name : ev.event;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(9)}  ${k}`).join('\n') + '\n';
  }
  throw new UsageError(`import: do not know what ${name} is (expected a run folder or one of its files; see prsim import --help)`);
}

export async function importCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('import', args, { format: { type: 'string' }, tag: { type: 'string' } }, 1);
  if (v.help) {
    io.out(IMPORT_USAGE);
    return 0;
  }
  const target = positionals[0];
  if (!target) throw new UsageError('import: which run folder or file? (e.g. prsim import ../shared/real-kernel/E2_memhog512_r1)');
  const format = choiceOption('format', v.format, FORMATS) ?? 'summary';
  const path = resolve(io.cwd, target);
  if (!existsSync(path)) throw new UsageError(`import: ${target}: no such file or directory`);
  const isDir = statSync(path).isDirectory();
  // --tag picks one snapshot of a run folder; where nothing would use it, it is refused rather than ignored.
  if (v.tag !== undefined && !isDir) throw new UsageError(`import: --tag ${v.tag}: picks a snapshot of a run folder; ${target} is one file`);
  if (v.tag !== undefined && format === 'summary') throw new UsageError(`import: --tag ${v.tag}: picks the snapshot of --format buddyinfo, zones or state; the summary lists every snapshot`);
  io.out(isDir ? importRun(io, path, format, v.tag) : await importFile(io, path, format));
  return 0;
}
