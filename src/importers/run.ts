// One recorded real-kernel run as typed data, wherever it came from: a folder on disk (loadRun in
// ./run-folder.ts, Node) or files held in memory. Browser-safe: types only.
import type { BuddyinfoRow } from './buddyinfo.js';
import type { PassRow, RamRow, ReportRow, RssRow, RunSummary } from './csv.js';
import type { FtraceEvent } from './ftrace.js';
import type { FreeBlock, KpageflagsBlocks } from './kpageflags.js';
import type { Pagetypeinfo } from './pagetypeinfo.js';
import type { Zoneinfo } from './zoneinfo.js';
import type { SerialLine } from './serial.js';

export type { SerialLine };

/** The /proc files captured at one moment (`guest/<tag>.<kind>`: pre, held, end, kpf_pre...). */
export interface ProcSnapshot {
  buddyinfo?: BuddyinfoRow[];
  pagetypeinfo?: Pagetypeinfo;
  zoneinfo?: Zoneinfo;
  /** /proc/vmstat as name → value. */
  vmstat?: Record<string, number>;
  /** /proc/meminfo as name → value in kB (or pages for the HugePages_ counts), as printed. */
  meminfo?: Record<string, number>;
}

export interface Run {
  dir: string;
  name: string;
  /**
   * What was skipped while reading, as `file:line: what`: empty samples, lines cut short by the recorder's exit,
   * snapshot files that could not be read (the run is still usable without them).
   */
  warnings: string[];
  summary: RunSummary | undefined;
  meta: Record<string, unknown> | undefined;
  reports: ReportRow[] | undefined;
  passes: PassRow[] | undefined;
  rss: RssRow[] | undefined;
  ram: RamRow[] | undefined;
  /** kpageflags.<tag>.blocks.csv by tag (pre, post, end, held). */
  blocks: Record<string, FreeBlock[]>;
  proc: Record<string, ProcSnapshot>;
  /** Half-open pfn ranges of memory from dmesg, when guest/dmesg.txt has them. */
  memoryRanges?: Array<[number, number]>;
  /** Zone [start, end) pfn bounds from the first zoneinfo found (what the kpageflags decoder splits on). */
  zoneBounds: Array<[number, number]>;
  /** guest/kpageflags.<tag>.bin[.gz] by tag, decoded on first call. */
  kpageflags: Record<string, () => KpageflagsBlocks>;
  /** guest/trace.txt[.gz], when present. */
  trace?: {
    path: string;
    /** Reads the whole file, then yields events lazily (fast). */
    events(): Generator<FtraceEvent>;
    /** Streams the file (low memory). */
    stream(): AsyncGenerator<FtraceEvent>;
  };
  /** serial.log, read on first call. */
  serial(): SerialLine[];
  /** Any other text file of guest/ (cmdline.txt, page_reporting_order.txt...), read on call. */
  guestText(name: string): string | undefined;
}
