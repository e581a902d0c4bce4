// What a sweep prints, made from its rows in index order (so it never depends on completion order, shards or
// resumes): the table (one line per point and guest), or, past TABLE_MAX_ROWS, the fleet view; the rows as
// JSON; the rows as CSV. JSON, CSV and the fleet view stream row by row; the table keeps its cells until the
// column widths are known (so it is only drawn for grids a terminal can show, or on request with --per-guest).
import { csvLine, SUMMARY_KEYS } from '../report/csv.js';
import { Fleet } from '../report/fleet.js';
import { formatTable, SWEEP_COLUMNS } from '../report/table.js';
import type { SweepDef } from './folder.js';
import type { SweepRow } from './row.js';

/** Table lines (points × guests) past which the fleet view is printed instead, unless --per-guest. */
export const TABLE_MAX_ROWS = 100;

export type SweepFormat = 'table' | 'json' | 'csv';

export interface Sink {
  write(text: string): void;
}

export interface SweepOutputOptions {
  format: SweepFormat;
  /** Where stdout's text goes. */
  out: Sink;
  /** A second, CSV, output (--csv FILE). */
  csv?: Sink;
  /** The full table whatever its length. */
  perGuest?: boolean;
}

const showParam = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function sweepTitle(def: SweepDef): string {
  return `${def.name ?? def.file}: ${def.points.toLocaleString('en-US')} grid point${def.points === 1 ? '' : 's'} over ${def.parameters.join(' × ')} (${def.file})\n\n`;
}

export function csvHeader(def: SweepDef): string {
  return csvLine(['point', ...def.parameters, 'guest', 'policy', ...SUMMARY_KEYS]);
}

export function csvRows(def: SweepDef, r: SweepRow): string {
  let out = '';
  for (const s of r.summaries) out += csvLine([r.index, ...def.parameters.map((p) => r.params[p]), s.name, s.policy, ...SUMMARY_KEYS.map((k) => s[k])]);
  return out;
}

/** JSON output: the sweep, then its rows exactly as stored, streamed. */
function jsonHead(def: SweepDef): string {
  const head = { scenario: def.name ?? def.file, file: def.file, scenarioHash: def.hash, version: def.version, parameters: def.parameters, points: def.points };
  return JSON.stringify(head).slice(0, -1) + ',"rows":[';
}

/** Feed the rows in index order; `end` prints what needs them all. */
export class SweepOutput {
  private first = true;
  private readonly fleet: Fleet | null;
  private cells: string[][] | null = null;
  private multiGuest = false;
  private started = false;

  constructor(private readonly def: SweepDef, private readonly opts: SweepOutputOptions) {
    this.fleet = opts.format === 'table' ? new Fleet() : null;
  }

  private start(r: SweepRow): void {
    this.started = true;
    const { def, opts } = this;
    this.multiGuest = r.summaries.length > 1;
    if (opts.format === 'table' && (opts.perGuest || def.points * r.summaries.length <= TABLE_MAX_ROWS)) this.cells = [];
    this.writeHeads();
  }

  /** What the JSON and CSV outputs start with, before any row. */
  private writeHeads(): void {
    const { def, opts } = this;
    if (opts.format === 'json') opts.out.write(jsonHead(def));
    if (opts.format === 'csv') opts.out.write(csvHeader(def));
    opts.csv?.write(csvHeader(def));
  }

  add(text: string, r: SweepRow): void {
    if (!this.started) this.start(r);
    const { def, opts } = this;
    if (opts.format === 'json') {
      opts.out.write((this.first ? '' : ',') + text);
      this.first = false;
    }
    if (opts.format === 'csv' || opts.csv) {
      const csv = csvRows(def, r);
      if (opts.format === 'csv') opts.out.write(csv);
      opts.csv?.write(csv);
    }
    if (this.fleet) {
      for (const s of r.summaries) this.fleet.addGuest(s);
      this.fleet.addHost(r.hostRssMiB, r.durationS);
    }
    if (this.cells) {
      for (const s of r.summaries) {
        this.cells.push([
          String(r.index), ...def.parameters.map((p) => showParam(r.params[p])), ...(this.multiGuest ? [s.name] : []),
          ...SWEEP_COLUMNS.map(([, f]) => f(s)),
        ]);
      }
    }
  }

  end(): void {
    const { def, opts } = this;
    if (!this.started) {
      // A grid always has a point; reached only by a folder whose rows were all missing, which merge refuses.
      this.writeHeads();
    }
    if (opts.format === 'json') opts.out.write(']}\n');
    if (opts.format !== 'table') return;
    opts.out.write(sweepTitle(def));
    if (this.cells) {
      const header = ['#', ...def.parameters, ...(this.multiGuest ? ['guest'] : []), ...SWEEP_COLUMNS.map(([h]) => h)];
      opts.out.write(formatTable(header, this.cells, this.multiGuest ? [def.parameters.length + 1] : []));
      return;
    }
    const guests = this.fleet!.guestCount;
    opts.out.write(`fleet view of ${guests.toLocaleString('en-US')} runs (points × guests; --per-guest prints one line each, --csv every figure):\n\n`);
    opts.out.write(this.fleet!.render());
  }
}


