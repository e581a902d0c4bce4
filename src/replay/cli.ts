// `prsim replay <run folder> [--mode forced|modelled|workload] [--delay <ms>|trace] [--order N] [--capacity N]
//  [--flush trace|on|off] [--json] [--reports-csv FILE]`: replay a recorded run on the simulator and print the
// real run and the simulator side by side, in one format whatever the run (src/replay/format.ts):
// - a run with a kmem trace and a kpageflags dump taken inside it (the E5 layout) is replayed event by event
//   (forced or modelled, src/replay/trace-replay.ts), and `--order`/`--capacity` replay that same allocator
//   traffic under another policy;
// - any other run (memhog, fragment, repeated cycles, THP, an idle boot) is simulated from its recorded state
//   with the workload its recording describes (src/replay/run-replay.ts); `--mode workload` does that for a
//   traced run too.
import { existsSync, readdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { processIo, type Io } from '../cli/io.js';
import { dirname, basename, join, resolve } from 'node:path';
import { loadRun } from '../importers/run.js';
import { SimError } from '../core/errors.js';
import { replayTrace, type ReplayMode } from './trace-replay.js';
import { traceRunComparison } from './compare.js';
import { replayRun, type WorkloadRunDetails } from './run-replay.js';
import { describeRun } from './run-model.js';
import { type RunComparison, type Window, reportsCsv, withinTolerance } from './format.js';

const USAGE = 'usage: prsim replay <run folder> [--mode forced|modelled|workload] [--delay <ms>|trace] [--order N] [--capacity N] [--flush trace|on|off] [--json] [--reports-csv FILE]';

interface Options {
  dir: string;
  mode: ReplayMode | 'workload' | undefined;
  delay: number | 'trace';
  order: number | undefined;
  capacity: number | undefined;
  flush: 'trace' | boolean;
  json: boolean;
  reportsCsv: string | undefined;
}

class Usage extends Error {}

function parse(args: string[]): Options | 'help' {
  const o: Partial<Options> & { dir?: string } = { delay: 'trace', flush: 'trace', json: false };
  const value = (i: number, name: string) => {
    const v = args[i];
    if (v === undefined || v.startsWith('--')) throw new Usage(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') return 'help';
    else if (a === '--mode') {
      const v = value(++i, a);
      if (v !== 'forced' && v !== 'modelled' && v !== 'workload') throw new Usage(`--mode must be forced, modelled or workload, got '${v}'`);
      o.mode = v;
    } else if (a === '--delay') {
      const v = value(++i, a);
      if (v === 'trace') o.delay = 'trace';
      else if (/^\d+(\.\d+)?$/.test(v)) o.delay = Number(v);
      else throw new Usage(`--delay must be milliseconds or 'trace', got '${v}'`);
    } else if (a === '--order' || a === '--capacity') {
      const v = value(++i, a);
      const n = Number(v);
      const [lo, hi] = a === '--order' ? [0, 10] : [1, 256];
      if (!/^\d+$/.test(v) || n < lo || n > hi) throw new Usage(`${a} must be an integer ${lo}..${hi}, got '${v}'`);
      if (a === '--order') o.order = n;
      else o.capacity = n;
    } else if (a === '--flush') {
      const v = value(++i, a);
      if (v !== 'trace' && v !== 'on' && v !== 'off') throw new Usage(`--flush must be trace, on or off, got '${v}'`);
      o.flush = v === 'trace' ? 'trace' : v === 'on';
    } else if (a === '--reports-csv') o.reportsCsv = value(++i, a);
    else if (a.startsWith('-')) throw new Usage(`unknown option ${a}`);
    else if (o.dir === undefined) o.dir = a;
    else throw new Usage('one run folder only');
  }
  if (o.dir === undefined) throw new Usage('no run folder given');
  return o as Options;
}

export async function replayCommand(args: string[], io: Io = processIo): Promise<number> {
  let o: Options | 'help';
  try {
    o = parse(args);
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    io.err(`prsim: replay: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (o === 'help') {
    io.out(`${USAGE}\n`);
    return 0;
  }
  o.dir = resolve(io.cwd, o.dir);
  if (o.reportsCsv !== undefined) o.reportsCsv = resolve(io.cwd, o.reportsCsv);
  if (!existsSync(o.dir) || !statSync(o.dir).isDirectory()) {
    io.err(`prsim: replay: ${o.dir}: ${existsSync(o.dir) ? 'not a directory' : 'no such folder'} (a run folder as in ../shared/real-kernel)\n`);
    return 2;
  }
  if (o.reportsCsv !== undefined) {
    const folder = dirname(o.reportsCsv);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      io.err(`prsim: replay: --reports-csv ${o.reportsCsv}: no folder ${folder}\n`);
      return 2;
    }
  }
  let c: RunComparison;
  try {
    c = replay(o);
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
    io.err(`prsim: replay: ${e.message}\n`);
    return 2;
  }
  if (o.reportsCsv !== undefined) {
    // Written beside the target and renamed into place: a failure never leaves half a file.
    const tmp = join(dirname(o.reportsCsv), `.${basename(o.reportsCsv)}.${process.pid}.tmp`);
    writeFileSync(tmp, reportsCsv(c.sim, c.clockOffset));
    renameSync(tmp, o.reportsCsv);
  }
  if (o.json) io.out(`${JSON.stringify(c, null, 1)}\n`);
  else io.out(`${formatComparison(c)}\n`);
  return 0;
}

/** Replay a run folder as the options say (the library's entry for what the command does). */
export function replay(o: Pick<Options, 'dir'> & Partial<Options>): RunComparison {
  const run = loadRun(o.dir);
  const traceable = !!run.trace && !!(run.blocks['pre'] ?? run.kpageflags['pre']);
  const mode = o.mode ?? (traceable ? 'forced' : 'workload');
  if (mode !== 'workload' && !traceable) {
    throw new SimError('BAD_CONFIG', `${run.name}: --mode ${mode} needs a run with a kmem trace and a kpageflags.pre dump (the E5 layout); this run replays as a workload`, { field: 'mode', value: mode });
  }
  if (mode === 'workload' && (o.order !== undefined || o.capacity !== undefined)) {
    throw new SimError('BAD_CONFIG', `${run.name}: --order and --capacity replay recorded allocator traffic, which only a kmem trace holds (the E5 layout)`, { field: o.order !== undefined ? 'order' : 'capacity' });
  }
  if (mode === 'workload') return replayRun(run, { flush: o.flush ?? 'trace' });
  const result = replayTrace(run, {
    mode, delayMs: o.delay ?? 'trace', ...(o.order !== undefined ? { order: o.order } : {}), ...(o.capacity !== undefined ? { capacity: o.capacity } : {}),
  });
  return traceRunComparison(run, result, describeRun(run));
}

// --- the text form ---

const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const orders = (h: number[]) => h.map((n, o) => (n ? `${o}:${n}` : '')).filter(Boolean).join(' ') || '-';
const secs = (x: number | null) => (x === null ? '-' : x.toFixed(2));

function windowLine(w: Window | null): string {
  if (!w) return '-';
  const steps = w.steps.map((s) => `+${s.t.toFixed(2)}s -${s.mib}`).join(', ') || 'none';
  return `${w.passes} passes, ${w.calls} calls, ${w.blocks} blocks (${orders(w.blocksByOrder)}), ${mib(w.bytes)} MiB; RSS steps ${steps}; t50 ${secs(w.t50)} t90 ${secs(w.t90)}`;
}

export function formatComparison(c: RunComparison): string {
  const out: string[] = [];
  const d = c.details as Partial<WorkloadRunDetails> & Record<string, unknown>;
  if (c.kind === 'trace') {
    out.push(`${c.run}: ${c.mode} trace replay`);
  } else {
    const m = d.model!;
    const cyc = m.cycles;
    const what = c.kind === 'idle' ? 'idle boot'
      : `${m.kind} ${cyc[0]?.mib ?? '?'} MiB${cyc.length > 1 ? ` x${cyc.length} cycles` : ''}, THP ${cyc[0]?.thp ?? 'never'}, cpu ${cyc.map((x) => x.cpu ?? '?').join('/')}`;
    out.push(`${c.run}: ${what}; ${m.cpus ?? '?'} cpus, ${m.memMiB ?? '?'} MiB guest; reporting order ${m.effectiveOrder ?? '?'}${m.orderWrites.length ? ` (written ${m.orderWrites.map((w) => `${w.order} at ${w.t.toFixed(2)} s`).join(', ')})` : ''}`);
    if (d.boot) out.push(`  boot simulated from ${d.boot.snapshot} at ${d.boot.start.toFixed(3)} s`);
    if (d.workload) out.push(`  workload simulated from ${d.workload.snapshot} at ${d.workload.start.toFixed(3)} s (${d.wallMs} ms)`);
  }
  for (const w of c.warnings) out.push(`  warning: ${w}`);
  if (c.real.boot || c.sim.boot) {
    out.push('  boot reporting (from the balloon\'s registration):');
    out.push(`    real ${windowLine(c.real.boot)}`);
    out.push(`    sim  ${windowLine(c.sim.boot)}`);
  }
  if (c.real.cycles && c.sim.cycles) {
    c.real.cycles.forEach((r, i) => {
      out.push(`  cycle ${i} (free at ${r.from.toFixed(3)} s, until ${r.to.toFixed(3)} s):`);
      out.push(`    real ${windowLine(r)}`);
      out.push(`    sim  ${windowLine(c.sim.cycles![i] ?? null)}`);
    });
  }
  if (c.real.afterFree || c.sim.afterFree) {
    out.push(`  after the last free (at ${(c.real.afterFree ?? c.sim.afterFree)!.from.toFixed(3)} s):`);
    out.push(`    real ${windowLine(c.real.afterFree)}`);
    out.push(`    sim  ${windowLine(c.sim.afterFree)}`);
  }
  for (const s of d.workload?.snapshots ?? []) {
    const zones = Object.keys(s.real.buddyinfo);
    for (const z of zones) {
      out.push(`  ${s.tag} (${s.t.toFixed(2)} s) ${z}: buddyinfo real ${s.real.buddyinfo[z]!.join(' ')} | sim ${s.sim.buddyinfo[z]?.join(' ') ?? '-'}; per-cpu real ${s.real.pcp[z]?.join('/') ?? '-'}, sim ${s.sim.pcp[z]?.join('/') ?? '-'}`);
    }
  }
  if (c.kind === 'trace') {
    const p = d['passes'] as { calls: { real: number; sim: number; same: number }; blocks: { real: number; samePosition: number; sameSet: number } };
    const b = d['endBlocks'] as { same: number; real: number; sim: number; onlyReal: number; onlySim: number; reportedDiffers: number };
    out.push(`  report() calls in the trace window: ${p.calls.same}/${p.calls.real} identical (sim ${p.calls.sim}); blocks in the same slot ${p.blocks.samePosition}/${p.blocks.real}, same set ${p.blocks.sameSet}`);
    out.push(`  free blocks at the end vs the kpageflags dump: ${b.same}/${b.real} identical (sim ${b.sim}), Reported differs ${b.reportedDiffers}, only real ${b.onlyReal}, only sim ${b.onlySim}`);
    const m = (d['replay'] as { modelled?: { drains: { same: number; trace: number; groupsSame: number; traceGroups: number }; zoneLocked: { same: number; trace: number; groupsSame: number; traceGroups: number } } }).modelled;
    if (m) {
      out.push(`  per-cpu drains reproduced ${m.drains.same}/${m.drains.trace} (bulk frees ${m.drains.groupsSame}/${m.drains.traceGroups}); refilled blocks ${m.zoneLocked.same}/${m.zoneLocked.trace} (refills ${m.zoneLocked.groupsSame}/${m.zoneLocked.traceGroups})`);
    }
  }
  return out.join('\n');
}

// --- prsim fidelity: every run folder of a directory, real against simulator ---

const FIDELITY_USAGE = 'usage: prsim fidelity [folder of run folders, default ../shared/real-kernel] [--json] [--tolerance S]';

export interface FidelityRow {
  run: string;
  kind: string;
  /** The window held: after the last free, or the boot reporting of an idle run. */
  window: 'after free' | 'boot';
  real: Window;
  sim: Window;
  ok: boolean;
  why: string[];
}

/** Replay every run folder (a folder holding serial.log or passes.csv) of `root` and hold each to tolerance. */
export function fidelityRows(root: string, tolS = 0.15): FidelityRow[] {
  return readdirSync(root).sort()
    .filter((d) => statSync(join(root, d)).isDirectory() && ['serial.log', 'passes.csv'].some((f) => existsSync(join(root, d, f))))
    .map((d) => {
      const c = replay({ dir: join(root, d) });
      const afterFree = c.real.afterFree !== null && c.sim.afterFree !== null;
      const real = (afterFree ? c.real.afterFree : c.real.boot)!, sim = (afterFree ? c.sim.afterFree : c.sim.boot)!;
      const t = afterFree ? withinTolerance(real, sim, tolS)
        : { why: [real.passes !== sim.passes ? `passes ${real.passes} vs ${sim.passes}` : '', real.calls !== sim.calls ? `calls ${real.calls} vs ${sim.calls}` : '', real.blocks !== sim.blocks ? `blocks ${real.blocks} vs ${sim.blocks}` : ''].filter(Boolean) };
      return { run: c.run, kind: c.kind === 'trace' ? `trace (${c.mode})` : c.kind, window: afterFree ? 'after free' : 'boot', real, sim, ok: t.why.length === 0, why: t.why } as FidelityRow;
    });
}

export function formatFidelity(rows: FidelityRow[], tolS: number): string {
  const cell = (a: number | null, b: number | null, f: (x: number) => string) => `${a === null ? '-' : f(a)} / ${b === null ? '-' : f(b)}`;
  const head = ['run', 'kind', 'window', 'passes', 'calls', 'blocks', 'MiB', 't50 s', 't90 s', `within ${tolS} s`];
  const body = rows.map((r) => [
    r.run, r.kind, r.window, cell(r.real.passes, r.sim.passes, String), cell(r.real.calls, r.sim.calls, String),
    cell(r.real.blocks, r.sim.blocks, String), cell(r.real.bytes / 2 ** 20, r.sim.bytes / 2 ** 20, (x) => x.toFixed(0)),
    cell(r.real.t50, r.sim.t50, (x) => x.toFixed(2)), cell(r.real.t90, r.sim.t90, (x) => x.toFixed(2)), r.ok ? 'yes' : `no: ${r.why.join(', ')}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...body.map(line), '', `real / simulator; ${rows.filter((r) => r.ok).length} of ${rows.length} runs within tolerance`].join('\n');
}

export async function fidelityCommand(args: string[], io: Io = processIo): Promise<number> {
  let root = '../shared/real-kernel', json = false, tol = 0.15;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      io.out(`${FIDELITY_USAGE}\n`);
      return 0;
    } else if (a === '--tolerance') {
      tol = Number(args[++i]);
      if (!(tol > 0)) {
        io.err(`prsim: fidelity: --tolerance must be seconds > 0, got '${args[i]}'\n${FIDELITY_USAGE}\n`);
        return 2;
      }
    } else if (a.startsWith('-')) {
      io.err(`prsim: fidelity: unknown option ${a}\n${FIDELITY_USAGE}\n`);
      return 2;
    } else root = a;
  }
  root = resolve(io.cwd, root);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    io.err(`prsim: fidelity: ${root}: no such folder\n${FIDELITY_USAGE}\n`);
    return 2;
  }
  let rows: FidelityRow[];
  try {
    rows = fidelityRows(root, tol);
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
    io.err(`prsim: fidelity: ${e.message}\n`);
    return 2;
  }
  io.out(`${json ? JSON.stringify(rows, null, 1) : formatFidelity(rows, tol)}\n`);
  return 0;
}
