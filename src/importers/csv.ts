// Readers for the derived files of a real-kernel run folder: reports.csv, passes.csv, rss.csv, ram.csv,
// kpageflags.<tag>.blocks.csv and summary.json. Columns are found by header name (so added columns do not
// break a reader) and every value is checked: a bad one is a ParseError naming file, line, column and value.
// reports.csv and passes.csv are written with CRLF line ends; both line ends are accepted.
//
// Real recordings have gaps. A sampled series (rss.csv, ram.csv) may hold a row whose values are empty, all
// (`t,,,`: QEMU exited while the sampler read it) or some, and any file may end with a line cut short by the
// recorder's exit (no line end after it; in a sampled series, possibly followed by empty samples).
// Such rows are skipped, and each skip is pushed to `warnings` as `file:line: what`, so a caller can show them;
// a bad value anywhere else is still an error.
import { ParseError } from '../core/errors.js';
import type { FreeBlock } from './kpageflags.js';

type Kind = 'int' | 'num' | 'bool01';
type Columns = Record<string, readonly [csvName: string, kind: Kind]>;
type RowOf<C extends Columns> = { [K in keyof C]: C[K][1] extends 'bool01' ? boolean : number };

function parseValue(file: string, line: number, column: string, kind: Kind, text: string): number | boolean {
  const v = Number(text);
  const ok = text !== '' && Number.isFinite(v) && (kind === 'num' || Number.isSafeInteger(v)) && (kind !== 'bool01' || v === 0 || v === 1);
  if (!ok) {
    const want = kind === 'bool01' ? '0 or 1' : kind === 'int' ? 'an integer' : 'a number';
    throw new ParseError(file, line, `${column}: '${text}' is not ${want}`, { field: column, value: text });
  }
  return kind === 'bool01' ? v === 1 : v;
}

export interface CsvOptions {
  /** A sampled series: a row with an empty cell after the first (the time) is a gap, skipped. */
  gaps?: boolean;
  /** Skipped rows are reported here as `file:line: what`. */
  warnings?: string[];
}

/** Generic typed CSV reader: `columns` maps a property name to [header name, kind]. */
export function parseCsv<C extends Columns>(text: string, file: string, columns: C, opts: CsvOptions = {}): Array<RowOf<C>> {
  const lines = text.split('\n');
  const header = (lines[0] ?? '').replace(/\r$/, '').split(',');
  // A sample with no value after its time: QEMU had exited (or was exiting) when the sampler read it.
  const emptySample = (cells: string[]) => cells.length === header.length && cells.slice(1).some((c) => c.trim() === '');
  // A last line with no line end after it was cut short when the recorder stopped writing. In a sampled
  // series the recorder's last sample may be followed by empty ones (the sampler outlived QEMU): the last line
  // before those is the one that may have been cut.
  let cut = lines.length > 1 && lines[lines.length - 1] !== '' ? lines.length - 1 : -1;
  if (opts.gaps) {
    let i = lines.length - 1;
    while (i > 0 && (lines[i]!.replace(/\r$/, '') === '' || emptySample(lines[i]!.replace(/\r$/, '').split(',')))) i--;
    if (i > 0 && i < lines.length - 1 && lines.slice(i + 1).some((l) => l.replace(/\r$/, '') !== '')) cut = i;
  }
  const keys = Object.keys(columns) as Array<keyof C & string>;
  const index = keys.map((k) => {
    const [name] = columns[k]!;
    const i = header.indexOf(name);
    if (i < 0) throw new ParseError(file, 1, `no '${name}' column in header '${header.join(',')}'`, { field: name, value: header.join(',') });
    return i;
  });
  const rows: Array<RowOf<C>> = [];
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!.replace(/\r$/, '');
    if (line === '') continue;
    const cells = line.split(',');
    if (opts.gaps && emptySample(cells)) {
      const all = cells.slice(1).every((c) => c.trim() === '');
      opts.warnings?.push(`${file}:${li + 1}: ${all ? 'empty' : 'incomplete'} sample skipped`);
      continue;
    }
    try {
      if (cells.length !== header.length) {
        throw new ParseError(file, li + 1, `${cells.length} fields, header has ${header.length}`, { field: 'row', value: line });
      }
      const row: Record<string, number | boolean> = {};
      keys.forEach((k, j) => {
        const [name, kind] = columns[k]!;
        row[k] = parseValue(file, li + 1, name, kind, cells[index[j]!]!);
      });
      rows.push(row as RowOf<C>);
    } catch (e) {
      // The last line may be cut short by the recorder's exit: skipped, not a reason to refuse the file.
      if (li !== cut || !(e instanceof ParseError)) throw e;
      opts.warnings?.push(`${file}:${li + 1}: truncated last line skipped (${e.message.replace(/^.*?: /, '')})`);
    }
  }
  return rows;
}

const REPORT_COLUMNS = {
  tGuest: ['t_guest_s', 'num'], tHost: ['t_host_s', 'num'], pass: ['pass', 'int'], batch: ['batch', 'int'],
  nents: ['nents', 'int'], idx: ['idx', 'int'], pfn: ['pfn', 'int'], order: ['order', 'int'], bytes: ['bytes', 'int'],
} as const;
/** One reported block; idx is the scatterlist slot (0 = last block taken off a list). */
export type ReportRow = RowOf<typeof REPORT_COLUMNS>;
export function parseReportsCsv(text: string, file = 'reports.csv', opts: CsvOptions = {}): ReportRow[] {
  return parseCsv(text, file, REPORT_COLUMNS, opts);
}

const PASS_COLUMNS = {
  pass: ['pass', 'int'], tStartGuest: ['t_start_guest_s', 'num'], tEndGuest: ['t_end_guest_s', 'num'],
  tStartHost: ['t_start_host_s', 'num'], batches: ['batches', 'int'], blocks: ['blocks', 'int'], bytes: ['bytes', 'int'],
} as const;
export type PassRow = RowOf<typeof PASS_COLUMNS>;
export function parsePassesCsv(text: string, file = 'passes.csv', opts: CsvOptions = {}): PassRow[] {
  return parseCsv(text, file, PASS_COLUMNS, opts);
}

const RSS_COLUMNS = {
  tHost: ['t_host_s', 'num'], vmRssKib: ['vmrss_kib', 'int'], rssAnonKib: ['rssanon_kib', 'int'], rssFileKib: ['rssfile_kib', 'int'],
} as const;
/** The QEMU process's RSS every 50 ms (QEMU's own memory included). */
export type RssRow = RowOf<typeof RSS_COLUMNS>;
export function parseRssCsv(text: string, file = 'rss.csv', opts: CsvOptions = {}): RssRow[] {
  return parseCsv(text, file, RSS_COLUMNS, { ...opts, gaps: true });
}

const RAM_COLUMNS = {
  tHost: ['t_host_s', 'num'], ramRssKib: ['ram_rss_kib', 'int'], ramAnonHugeKib: ['ram_anonhuge_kib', 'int'], ramSizeKib: ['ram_size_kib', 'int'],
} as const;
/** The guest-RAM mapping alone, every 500 ms. */
export type RamRow = RowOf<typeof RAM_COLUMNS>;
export function parseRamCsv(text: string, file = 'ram.csv', opts: CsvOptions = {}): RamRow[] {
  return parseCsv(text, file, RAM_COLUMNS, { ...opts, gaps: true });
}

const BLOCK_COLUMNS = { pfn: ['pfn', 'int'], order: ['order', 'int'], reported: ['reported', 'bool01'] } as const;
/** kpageflags.<tag>.blocks.csv: free blocks decoded from a dump. */
export function parseBlocksCsv(text: string, file = 'blocks.csv', opts: CsvOptions = {}): FreeBlock[] {
  return parseCsv(text, file, BLOCK_COLUMNS, opts);
}

/** summary.json: figures vary by experiment; the ones every run has are typed, the rest pass through. */
export interface RunSummary {
  name: string;
  mem_mib: number;
  smp: number;
  clock_offset_host_minus_guest_s: number;
  page_reporting_order_effective: number;
  markers_guest_s: Record<string, number>;
  all_passes: number;
  all_batches: number;
  all_reported_bytes: number;
  [key: string]: unknown;
}

export function parseSummaryJson(text: string, file = 'summary.json'): RunSummary {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : 1;
    throw new ParseError(file, line, `invalid JSON: ${(e as Error).message}`, { field: 'json', value: (e as Error).message });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ParseError(file, 1, 'expected a JSON object', { field: 'json', value: typeof data });
  }
  const s = data as Record<string, unknown>;
  const need: Array<[string, string]> = [
    ['name', 'string'], ['mem_mib', 'number'], ['smp', 'number'], ['clock_offset_host_minus_guest_s', 'number'],
    ['page_reporting_order_effective', 'number'], ['markers_guest_s', 'object'],
    ['all_passes', 'number'], ['all_batches', 'number'], ['all_reported_bytes', 'number'],
  ];
  for (const [key, type] of need) {
    if (typeof s[key] !== type || s[key] === null) {
      throw new ParseError(file, lineOfKey(text, key), `${key}: expected a ${type}, got ${JSON.stringify(s[key])}`, { field: key, value: s[key] });
    }
  }
  return s as RunSummary;
}

function lineOfKey(text: string, key: string): number {
  const at = text.indexOf(`"${key}"`);
  return at < 0 ? 1 : text.slice(0, at).split('\n').length;
}
