// ftrace text (the `trace` file, plain or gzip'd) → typed events, one line at a time, so a 45 MB kmem trace is
// never held as an array of lines. Understands the kmem page events and the kprobe events the real-kernel runs
// set up (prproc/prproc_ret around page_reporting_process, prnotify on __page_reporting_notify, prrep/prrep_ret
// around virtballoon_free_page_report); any other event comes out as `other` with its raw arguments.
//
// Line layout (6.1, default options): `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: ARGS`, e.g.
//   `  wl-130  [001] d..3.  22.305619: mm_page_pcpu_drain: page=(____ptrval____) pfn=0x17aed order=0 migratetype=1`
// pfn is hex with 0x in 6.1 (older kernels print decimal; both are read). Lines starting with '#' are comments.
import { ParseError, checkText } from '../core/errors.js';
import { MIGRATE_TYPES, type MigrateType } from '../core/types.js';
import { gunzipIfNeeded, isGzip } from './kpageflags.js';

export interface FtraceOptions {
  /**
   * Half-open pfn ranges of the traced guest's memory (dmesg's memory ranges, or its zones' spans): a page event
   * whose pfn lies outside every range is refused with its line. Without them only pfns beyond any x86-64
   * machine (2^40 pfns: 52-bit physical addresses) are refused.
   */
  pfnRanges?: ReadonlyArray<readonly [number, number]>;
  /**
   * A trace whose last line has no line end was cut short when the recorder stopped (a complete ftrace dump
   * ends every line): that line, if it does not parse, is skipped and said here as `file:line: what`.
   */
  warnings?: string[];
}

/** One past the highest pfn of 52-bit physical addresses (x86-64 MAX_PHYSMEM_BITS) with 4 KiB pages. */
const PFN_LIMIT = 2 ** 40;

export interface EventBase {
  /** Seconds on the trace clock (trace_clock=mono in the real runs, the clock of the `@` records). */
  ts: number;
  cpu: number;
  task: string;
  pid: number;
  /** The irq/preempt flags column ('d..3.'), '' when the trace has none. */
  flags: string;
  /** 1-based line in the file. */
  line: number;
}

/** A failed allocation prints pfn=0 in 6.1 (pfn 0 is firmware-reserved on x86, never a real result). */
export interface PageAllocEvent extends EventBase {
  event: 'mm_page_alloc';
  pfn: number; order: number; migratetype: MigrateType; gfpFlags: string;
}
export interface PageFreeEvent extends EventBase { event: 'mm_page_free'; pfn: number; order: number }
export interface PageFreeBatchedEvent extends EventBase { event: 'mm_page_free_batched'; pfn: number; order: number }
export interface PageAllocZoneLockedEvent extends EventBase {
  event: 'mm_page_alloc_zone_locked';
  pfn: number; order: number; migratetype: MigrateType;
  /** 6.1 prints percpu_refill; older kernels do not (undefined then). */
  percpuRefill?: boolean;
}
export interface PagePcpuDrainEvent extends EventBase {
  event: 'mm_page_pcpu_drain'; pfn: number; order: number; migratetype: MigrateType;
}
export interface PageAllocExtfragEvent extends EventBase {
  event: 'mm_page_alloc_extfrag';
  pfn: number;
  /** alloc_order / alloc_migratetype. */
  order: number; migratetype: MigrateType;
  fallbackOrder: number; pageblockOrder: number; fallbackMigratetype: MigrateType;
  fragmenting: boolean; changeOwnership: boolean;
}
/** Kprobe hits carry the probed location as printed, e.g. `page_reporting_process+0x0/0x570`. */
export interface PrprocEvent extends EventBase { event: 'prproc'; probe: string }
export interface PrprocRetEvent extends EventBase { event: 'prproc_ret'; probe: string }
export interface PrnotifyEvent extends EventBase { event: 'prnotify'; probe: string }
export interface ReportEntry {
  /** ((pK & ~3) - vb) / 64: the low bits of a scatterlist page_link are chain/end marks. */
  pfn: number;
  /** log2(lK / 4096). */
  order: number;
  bytes: number;
}
export interface PrrepEvent extends EventBase {
  event: 'prrep';
  probe: string;
  /** Entries handed to the device; only slots 0..n-1 of the probe's 32 are valid. */
  n: number;
  vmemmapBase: bigint;
  /** Slot order (index 0 is the last block isolated). */
  entries: ReportEntry[];
}
export interface PrrepRetEvent extends EventBase { event: 'prrep_ret'; probe: string; ret: number }
export interface MarkerEvent extends EventBase { event: 'tracing_mark_write'; message: string }
/** `CPU:N [LOST M EVENTS]`: the ring buffer overwrote events of that CPU. ts is NaN, task '' and pid -1. */
export interface LostEvent extends EventBase { event: 'lost'; lost: number }
export interface OtherEvent extends EventBase { event: 'other'; name: string; args: string }

export type KmemEvent =
  | PageAllocEvent | PageFreeEvent | PageFreeBatchedEvent | PageAllocZoneLockedEvent | PagePcpuDrainEvent
  | PageAllocExtfragEvent;
export type ReportingEvent = PrprocEvent | PrprocRetEvent | PrnotifyEvent | PrrepEvent | PrrepRetEvent;
export type FtraceEvent = KmemEvent | ReportingEvent | MarkerEvent | LostEvent | OtherEvent;
export type FtraceEventName = FtraceEvent['event'];

// TASK may hold spaces and dashes: the lazy match stops at the first `-PID` followed by `[CPU]`. An optional
// `(TGID)` column (record-tgid) and an optional flags column are skipped. The arguments are whatever follows.
const LINE = /^\s*(.*?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(?:(\S{4,5})\s+)?(\d+\.\d+):\s+(\w+):\s?/;
const LOST = /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/;
const INT = /^(0x[0-9a-fA-F]+|-?\d+)$/;
const PAGE_SIZE = 4096;
const STRUCT_PAGE_SIZE = 64n;

/**
 * The `key=value` arguments of one event, looked up by position in the string rather than split into a map:
 * a kmem trace has hundreds of thousands of lines and only a few keys of each are read.
 */
class Fields {
  constructor(readonly file: string, readonly line: number, readonly event: string, readonly args: string, readonly opts?: FtraceOptions) {}
  has(key: string): boolean {
    return this.find(key) >= 0;
  }
  /** Index of the value of `key`, -1 when absent; a key matches only at the start of a token. */
  private find(key: string): number {
    const a = this.args;
    let i = a.indexOf(key + '=');
    while (i >= 0) {
      if (i === 0 || a.charCodeAt(i - 1) === 32) return i + key.length + 1;
      i = a.indexOf(key + '=', i + 1);
    }
    return -1;
  }
  str(key: string): string {
    const at = this.find(key);
    if (at < 0) throw new ParseError(this.file, this.line, `${this.event}: no '${key}' field`, { field: key, value: undefined, event: this.event });
    const end = this.args.indexOf(' ', at);
    return this.args.slice(at, end < 0 ? undefined : end);
  }
  /** Decimal or 0x-hex integer. */
  int(key: string): number {
    const v = this.str(key);
    // Number() reads both 123 and 0x7b, but also 1e3, 0b1 and '': the pattern keeps it to the first two.
    const n = INT.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw new ParseError(this.file, this.line, `${this.event}: ${key}='${v}' is not an integer`, { field: key, value: v, event: this.event });
    return n;
  }
  big(key: string): bigint {
    const v = this.str(key);
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(v)) throw new ParseError(this.file, this.line, `${this.event}: ${key}='${v}' is not an integer`, { field: key, value: v, event: this.event });
    return BigInt(v);
  }
  flag(key: string): boolean {
    const n = this.int(key);
    if (n !== 0 && n !== 1) throw new ParseError(this.file, this.line, `${this.event}: ${key}='${n}' is not 0 or 1`, { field: key, value: n, event: this.event });
    return n === 1;
  }
  /** A page's pfn: inside the recorded memory map (pfn 0 is a failed allocation in 6.1, always allowed). */
  pfn(key = 'pfn'): number {
    const n = this.int(key);
    if (n < 0) throw new ParseError(this.file, this.line, `${this.event}: ${key}=${n} is negative (not a pfn)`, { field: key, value: n, event: this.event });
    if (n >= PFN_LIMIT) {
      throw new ParseError(this.file, this.line, `${this.event}: ${key}=0x${n.toString(16)} is beyond any x86-64 memory (2^40 pfns)`, { field: key, value: n, event: this.event });
    }
    const ranges = this.opts?.pfnRanges;
    if (ranges && n !== 0 && !ranges.some(([a, b]) => n >= a && n < b)) {
      const map = ranges.map(([a, b]) => `0x${a.toString(16)}-0x${(b - 1).toString(16)}`).join(', ');
      throw new ParseError(this.file, this.line, `${this.event}: ${key}=0x${n.toString(16)} is outside the guest's memory (${map})`, { field: key, value: n, event: this.event });
    }
    return n;
  }
  /** A migratetype number: 0..5 (Unmovable, Movable, Reclaimable, HighAtomic, CMA or Isolate). */
  mt(key: string): MigrateType {
    const n = this.int(key);
    if (n < 0 || n >= MIGRATE_TYPES) {
      throw new ParseError(this.file, this.line, `${this.event}: ${key}=${n} is not a migratetype (0..${MIGRATE_TYPES - 1})`, { field: key, value: n, event: this.event });
    }
    return n as MigrateType;
  }
  order(key: string): number {
    const n = this.int(key);
    if (n < 0 || n > 63) throw new ParseError(this.file, this.line, `${this.event}: ${key}=${n} is not an order`, { field: key, value: n, event: this.event });
    return n;
  }
}

/** Split kprobe arguments `(location) k=v ...` into the location and the rest; the location may hold spaces. */
function splitProbe(file: string, line: number, event: string, args: string): [string, string] {
  if (!args.startsWith('(')) throw new ParseError(file, line, `${event}: expected '(probe location)', got '${args.slice(0, 40)}'`, { field: 'probe', value: args.slice(0, 40), event });
  const close = args.indexOf(')');
  if (close < 0) throw new ParseError(file, line, `${event}: unterminated probe location`, { field: 'probe', value: args.slice(0, 40), event });
  return [args.slice(1, close), args.slice(close + 1)];
}

function reportEntries(f: Fields, n: number, vb: bigint): ReportEntry[] {
  const entries: ReportEntry[] = [];
  for (let k = 0; k < n; k++) {
    const p = f.big(`p${k}`);
    const bytes = f.int(`l${k}`);
    const offset = (p & ~3n) - vb;
    if (offset < 0n || offset % STRUCT_PAGE_SIZE !== 0n) {
      throw new ParseError(f.file, f.line, `prrep: p${k}=0x${p.toString(16)} is not a page of vmemmap base 0x${vb.toString(16)}`, { field: `p${k}`, value: `0x${p.toString(16)}`, event: 'prrep' });
    }
    const pages = bytes / PAGE_SIZE;
    const order = Math.log2(pages);
    if (!Number.isInteger(order)) {
      throw new ParseError(f.file, f.line, `prrep: l${k}=${bytes} is not a power-of-two number of pages`, { field: `l${k}`, value: bytes, event: 'prrep' });
    }
    entries.push({ pfn: Number(offset / STRUCT_PAGE_SIZE), order, bytes });
  }
  return entries;
}

/**
 * One line → an event, or null for a comment or blank line. Throws ParseError naming file, line, field and value.
 */
export function parseFtraceLine(text: string, file = 'trace.txt', line = 0, opts?: FtraceOptions): FtraceEvent | null {
  checkText('parseFtraceLine', text);
  const raw = text.endsWith('\r') ? text.slice(0, -1) : text;
  if (raw.length === 0 || raw.charCodeAt(0) === 35 /* '#' */) return null;
  const m = LINE.exec(raw);
  if (!m) {
    if (raw.trim() === '') return null;
    const lost = LOST.exec(raw.trim());
    if (lost) return { event: 'lost', ts: NaN, cpu: Number(lost[1]), task: '', pid: -1, flags: '', line, lost: Number(lost[2]) };
    throw new ParseError(file, line, `not an ftrace event line: '${raw.slice(0, 80)}'`, { field: 'line', value: raw.slice(0, 80) });
  }
  const ts = Number(m[5]), cpu = Number(m[3]), task = m[1]!.trim(), pid = Number(m[2]), flags = m[4] ?? '';
  const name = m[6]!;
  const args = raw.slice(m[0].length);
  // Object literals written out in full (no spread of a base object): this runs once per trace line.
  switch (name) {
    case 'mm_page_alloc': {
      const f = new Fields(file, line, name, args, opts);
      return {
        event: name, ts, cpu, task, pid, flags, line,
        pfn: f.pfn(), order: f.order('order'), migratetype: f.mt('migratetype'), gfpFlags: f.str('gfp_flags'),
      };
    }
    case 'mm_page_free':
    case 'mm_page_free_batched': {
      const f = new Fields(file, line, name, args, opts);
      return { event: name, ts, cpu, task, pid, flags, line, pfn: f.pfn(), order: f.order('order') };
    }
    case 'mm_page_alloc_zone_locked': {
      const f = new Fields(file, line, name, args, opts);
      const ev: PageAllocZoneLockedEvent = {
        event: name, ts, cpu, task, pid, flags, line, pfn: f.pfn(), order: f.order('order'), migratetype: f.mt('migratetype'),
      };
      if (f.has('percpu_refill')) ev.percpuRefill = f.flag('percpu_refill');
      return ev;
    }
    case 'mm_page_pcpu_drain': {
      const f = new Fields(file, line, name, args, opts);
      return { event: name, ts, cpu, task, pid, flags, line, pfn: f.pfn(), order: f.order('order'), migratetype: f.mt('migratetype') };
    }
    case 'mm_page_alloc_extfrag': {
      const f = new Fields(file, line, name, args, opts);
      return {
        event: name, ts, cpu, task, pid, flags, line,
        pfn: f.pfn(), order: f.order('alloc_order'), migratetype: f.mt('alloc_migratetype'),
        fallbackOrder: f.order('fallback_order'), pageblockOrder: f.order('pageblock_order'),
        fallbackMigratetype: f.mt('fallback_migratetype'), fragmenting: f.flag('fragmenting'),
        changeOwnership: f.flag('change_ownership'),
      };
    }
    case 'prproc':
    case 'prproc_ret':
    case 'prnotify':
      return { event: name, ts, cpu, task, pid, flags, line, probe: splitProbe(file, line, name, args)[0] };
    case 'prrep': {
      const [probe, rest] = splitProbe(file, line, name, args);
      const f = new Fields(file, line, name, rest);
      const n = f.int('n');
      if (n < 0 || n > 32) throw new ParseError(file, line, `prrep: n=${n} is outside 0..32`, { field: 'n', value: n, event: name });
      const vb = f.big('vb');
      return { event: name, ts, cpu, task, pid, flags, line, probe, n, vmemmapBase: vb, entries: reportEntries(f, n, vb) };
    }
    case 'prrep_ret': {
      const [probe, rest] = splitProbe(file, line, name, args);
      const f = new Fields(file, line, name, rest);
      // ret is a u64 in hex: read it as signed 32 so -ENOMEM etc. come out negative.
      const ret = Number(BigInt.asIntN(32, f.big('ret')));
      return { event: name, ts, cpu, task, pid, flags, line, probe, ret };
    }
    case 'tracing_mark_write':
      return { event: name, ts, cpu, task, pid, flags, line, message: args };
    default:
      return { event: 'other', ts, cpu, task, pid, flags, line, name, args };
  }
}

/** Events of an iterable of lines (line numbers count from 1, comments included). */
export function* parseFtraceLines(lines: Iterable<string>, file = 'trace.txt', opts?: FtraceOptions): Generator<FtraceEvent> {
  let n = 0;
  for (const l of lines) {
    n++;
    const ev = parseFtraceLine(l, file, n, opts);
    if (ev) yield ev;
  }
}

/** The last line cut short (no line end after it) that does not parse: skipped with a warning, not refused. */
function skipCutLine(e: unknown, file: string, line: number, opts: FtraceOptions | undefined): void {
  if (!(e instanceof ParseError)) throw e;
  const w = `${file}:${line}: truncated last line skipped (${e.message.replace(/^.*?:\d+: /, '')})`;
  // The same file may be read more than once (its events are a lazy, repeatable read).
  if (opts?.warnings && !opts.warnings.includes(w)) opts.warnings.push(w);
}

/** ftrace writes its "# tracer:" header even when nothing was traced: a file without a single line is not a trace. */
function emptyTrace(file: string): ParseError {
  return new ParseError(file, 1, 'empty: a trace file has at least the "# tracer: ..." header ftrace writes', { field: 'file', value: '' });
}

/** Events of a whole trace held in a string. */
export function parseFtraceText(text: string, file = 'trace.txt', opts?: FtraceOptions): Generator<FtraceEvent> {
  checkText('parseFtraceText', text);
  return textEvents(text, file, opts);
}

function* textEvents(text: string, file: string, opts: FtraceOptions | undefined): Generator<FtraceEvent> {
  if (text.length === 0) throw emptyTrace(file);
  let at = 0, n = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    const cut = nl < 0;
    if (cut) nl = text.length;
    n++;
    let ev: FtraceEvent | null;
    try {
      ev = parseFtraceLine(text.slice(at, nl), file, n, opts);
    } catch (e) {
      if (!cut) throw e;
      skipCutLine(e, file, n, opts);
      return;
    }
    if (ev) yield ev;
    at = nl + 1;
  }
}

/** Lines of a byte or text stream (Node stream, or a web ReadableStream, e.g. through DecompressionStream). */
export async function* streamLines(chunks: AsyncIterable<Uint8Array | string>, end?: { cut: boolean }): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of chunks) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    let at = 0;
    while ((nl = rest.indexOf('\n', at)) >= 0) {
      yield rest.slice(at, nl);
      at = nl + 1;
    }
    rest = rest.slice(at);
  }
  rest += decoder.decode();
  if (rest.length) {
    // A last line with no line end: `end.cut` is set before it is yielded.
    if (end) end.cut = true;
    yield rest;
  }
}

/** Events of a byte or text stream, streaming. */
export async function* parseFtraceStream(chunks: AsyncIterable<Uint8Array | string>, file = 'trace.txt', opts?: FtraceOptions): AsyncGenerator<FtraceEvent> {
  let n = 0;
  const end = { cut: false };
  for await (const l of streamLines(chunks, end)) {
    n++;
    let ev: FtraceEvent | null;
    try {
      ev = parseFtraceLine(l, file, n, opts);
    } catch (e) {
      if (!end.cut) throw e;
      skipCutLine(e, file, n, opts);
      return;
    }
    if (ev) yield ev;
  }
  if (n === 0) throw emptyTrace(file);
}

// Node built-ins are reached at call time so this module also bundles for a browser.
function nodeBuiltin<T>(id: string): T {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.(id) as T | undefined;
  if (!mod) throw new Error(`${id} is not available here (Node.js >= 20.16 needed)`);
  return mod;
}

/** Stream the events of a trace file (Node); gzip'd when the name ends in .gz or the data starts with the magic. */
export async function* readFtraceFile(path: string, opts?: FtraceOptions): AsyncGenerator<FtraceEvent> {
  const fs = nodeBuiltin<typeof import('node:fs')>('node:fs');
  const zlib = nodeBuiltin<typeof import('node:zlib')>('node:zlib');
  const head = new Uint8Array(2);
  const fd = fs.openSync(path, 'r');
  try {
    fs.readSync(fd, head, 0, 2, 0);
  } finally {
    fs.closeSync(fd);
  }
  const source = fs.createReadStream(path);
  const stream = path.endsWith('.gz') || isGzip(head) ? source.pipe(zlib.createGunzip()) : source;
  try {
    yield* parseFtraceStream(stream, path, opts);
  } catch (e) {
    // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR: corrupt or cut-short data) are the file's fault, named as such.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new ParseError(path, 0, `gzip data is corrupt: ${(e as Error).message}`, { field: 'encoding', value: 'gzip' });
    }
    throw e;
  } finally {
    // pipe() does not close the file when the consumer stops early (break, or a ParseError).
    source.destroy();
  }
}

/** The events of a trace file (Node), read and decompressed in one go; iterating is the only lazy part. */
export function readFtraceFileSync(path: string, opts?: FtraceOptions): Generator<FtraceEvent> {
  const fs = nodeBuiltin<typeof import('node:fs')>('node:fs');
  const bytes = gunzipIfNeeded(fs.readFileSync(path), path);
  return parseFtraceText(new TextDecoder().decode(bytes), path, opts);
}
