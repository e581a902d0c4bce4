// What a recorded run did, read from its own files, in the terms a simulation needs: the guest (memory, cpus,
// THP), when the balloon registered and the reporting order was written, when the state was captured, and the
// workload's timeline, every cycle of it.
//
// Sources, in order of trust (each run folder is recorded the same way, ../shared/real-kernel/README.md):
// - serial.log `@T` markers: init_start (the experiment's parameters: exp, mib, hold, thp, rorder, ...),
//   balloon_loaded, rorder_set, settle_done, and each cycle's alloc_start / alloc_done / frag_start / frag_done /
//   free_start / free_done; `@I` lines: nproc, thp_enabled, page_reporting_order_effective;
// - meta.json: `smp` and `mem_mib` (QEMU's -smp and -m), the kernel command line (`append`: EXP=, MIB=, THP=,
//   transparent_hugepage=);
// - guest/trace.txt kprobes: `prnotify` (a free reaching the reporting order) carries the task and cpu, so the
//   frees of a cycle tell which cpu the workload freed on, and a burst of them from another task on that cpu
//   right after the free tells that the next process flushed the cpu's per-cpu lists (see processExit).
// What is missing is inferred with a warning, never a reason to refuse the run.
import type { Run } from '../importers/run.js';
import type { FtraceEvent } from '../importers/ftrace.js';
import type { ThpMode } from '../workloads/mapping.js';

export interface RunCycle {
  /** Guest seconds of the cycle's markers. */
  allocStart: number;
  allocDone: number;
  fragStart?: number;
  fragDone?: number;
  freeStart: number;
  freeDone: number;
  mib: number;
  thp: ThpMode;
  /** The cpu the workload freed on: from prnotify, else the per-cpu counts' move (`cpuFrom`); unknown: cpu 0. */
  cpu?: number;
  cpuFrom?: 'prnotify' | 'pcp counts';
  /** A burst of prnotify from another task on that cpu right after the free: its per-cpu lists were flushed. */
  flushedAfter?: boolean;
}

export type RunKind = 'idle' | 'memhog' | 'fragment';

export interface RunModel {
  name: string;
  /** The experiment as the guest script named it (init_start exp=, or EXP= on the kernel command line). */
  exp: string;
  kind: RunKind;
  /** init_start's key=value fields. */
  params: Record<string, string>;
  memMiB: number | undefined;
  cpus: number | undefined;
  /** THP in the guest (transparent_hugepage enabled is not `never`): raises the watermarks, allows folios. */
  guestThp: boolean;
  /** transparent_hugepage `enabled`, and where it was read (the printed sysfs value, or the kernel command line). */
  guestThpMode: ThpMode;
  guestThpFrom: 'thp_enabled' | 'kernel command line' | 'default';
  /** Guest seconds the balloon registered (balloon_loaded). */
  register: number | undefined;
  /** page_reporting_order writes through sysfs (rorder_set value=). */
  orderWrites: Array<{ t: number; order: number }>;
  /** The order in force after the balloon and any write, as the guest printed it. */
  effectiveOrder: number | undefined;
  /** Guest seconds the `pre` snapshot was taken (settle_done: the script snapshots right after settling). */
  preTime: number | undefined;
  /** Guest seconds of the `held` snapshot (the `snap held` marker). */
  heldTime: number | undefined;
  /**
   * Files the guest wrote while recording (its /proc snapshots at `snap` markers and after settling, its
   * kpageflags dumps at `kpf_start`): the page cache they leave stays allocated. Pages from meta.json's file
   * sizes where it lists them.
   */
  writes: Array<{ t: number; pages: number; what: string }>;
  /** End of the idle phase (the last moment the run is comparable; dumps follow). */
  idleEnd: number | undefined;
  cycles: RunCycle[];
  /** Fragment runs: every k-th page is given back (the guest script frees every other page). */
  every: number;
  /** t_host - t_guest, seconds. */
  clockOffset: number;
  warnings: string[];
}

/** `@T` markers in time order: name, key=value fields, and the raw words after the name. */
interface Marker { t: number; name: string; fields: Record<string, string>; args: string[] }

function markers(run: Run): Marker[] {
  const out: Marker[] = [];
  for (const l of run.serial()) {
    const r = l.record;
    if (r?.kind !== 'T' || !r.fields[0]) continue;
    const fields: Record<string, string> = {};
    for (const f of r.fields.slice(1)) {
      const eq = f.indexOf('=');
      if (eq > 0) fields[f.slice(0, eq)] = f.slice(eq + 1);
    }
    out.push({ t: r.tGuest, name: r.fields[0], fields, args: r.fields.slice(1) });
  }
  return out.sort((a, b) => a.t - b.t);
}

/** `@I key value...` lines as key → rest. */
function infoLines(run: Run): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of run.serial()) {
    const m = /^@I (\S+) ?(.*)$/.exec(l.text);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** t_host - t_guest from the `@` records (median), else summary.json's offset. */
function clockOffset(run: Run): number | undefined {
  const d = run.serial().filter((l) => l.record).map((l) => l.tHost - l.record!.tGuest).sort((a, b) => a - b);
  if (d.length) return d[Math.floor(d.length / 2)]!;
  return run.summary?.clock_offset_host_minus_guest_s;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/**
 * The THP a cycle's mapping gets, from what the script asked (thp=huge: MADV_HUGEPAGE; thp=nohuge:
 * MADV_NOHUGEPAGE; none: no madvise) and the guest's `enabled` mode, as the 6.1 fault path decides it: `never`
 * gives no folio whatever the madvise; MADV_NOHUGEPAGE none whatever the mode; MADV_HUGEPAGE one under `always`
 * or `madvise`; no madvise one only under `always`.
 */
function thpOf(v: string | undefined, enabled: ThpMode): ThpMode {
  if (enabled === 'never' || v === 'nohuge' || v === 'never') return 'never';
  if (v === 'huge' || v === 'madvise') return 'madvise';
  return enabled === 'always' ? 'always' : 'never';
}

/** The bracketed choice of a sysfs `enabled` file (`[always] madvise never`). */
function chosenMode(text: string | undefined): ThpMode | undefined {
  const m = /\[(always|madvise|never)\]/.exec(text ?? '');
  return m ? (m[1] as ThpMode) : undefined;
}

function kindOf(exp: string, cycles: RunCycle[]): RunKind {
  if (/^frag/.test(exp) || cycles.some((c) => c.fragStart !== undefined)) return 'fragment';
  return cycles.length ? 'memhog' : 'idle';
}

/**
 * The run as its recording describes it. `traceEvents`: the trace's events (its prnotify hits suffice) where the
 * caller has read them already; else the trace, when there is one, is read here.
 */
export function describeRun(run: Run, traceEvents?: Iterable<FtraceEvent>): RunModel {
  const warnings: string[] = [];
  const ms = markers(run);
  const info = infoLines(run);
  const first = (name: string) => ms.find((m) => m.name === name);
  const init = first('init_start');
  const append = String(run.meta?.['append'] ?? run.summary?.['append'] ?? info['cmdline'] ?? '');
  const cmd = (key: string) => new RegExp(`\\b${key}=(\\S+)`).exec(append)?.[1];
  const params: Record<string, string> = { ...(init?.fields ?? {}) };
  const exp = (params['exp'] ?? cmd('EXP') ?? '').toLowerCase();
  if (!init) warnings.push(`${run.name}: serial.log has no init_start marker; parameters from the kernel command line`);

  const memMiB = num(run.meta?.['mem_mib']) ?? num(run.summary?.mem_mib);
  const cpus = num(run.meta?.['smp']) ?? num(info['nproc']) ?? num(run.summary?.smp);
  // THP in the guest: the sysfs value the guest printed at start (what the workload ran under), else the
  // kernel command line's transparent_hugepage=, else the recorded kernel's built-in default (always).
  const printed = chosenMode(info['thp_enabled']) ?? chosenMode(String(run.summary?.['thp_guest'] ?? ''));
  const booted = /(?:^|\s)transparent_hugepage=(always|madvise|never)(?:\s|$)/.exec(append)?.[1] as ThpMode | undefined;
  const guestThpMode: ThpMode = printed ?? booted ?? 'always';
  const guestThpFrom = printed ? 'thp_enabled' : booted ? 'kernel command line' : 'default';
  const guestThp = guestThpMode !== 'never';
  const mibParam = num(params['mib']) ?? num(cmd('MIB'));
  const thpParam = params['thp'] ?? cmd('THP')?.toLowerCase();

  // Cycles: each alloc_start opens one; the markers up to the next alloc_start belong to it. A marker lost from
  // the console (a gap in serial.log) is inferred from the script's own timing, which init_start records: it
  // holds `hold` s after its last step before the free, and sleeps `gap` s after a free before the next cycle
  // (`idle` s before idle_end).
  const hold = num(params['hold']) ?? num(cmd('HOLD'));
  const gap = num(params['gap']) ?? num(cmd('GAP'));
  const idle = num(params['idle']) ?? num(cmd('IDLE'));
  const cycles: RunCycle[] = [];
  let open: Partial<RunCycle> | null = null;
  let seen: Marker[] = [];
  const close = (next?: Marker) => {
    if (!open) return;
    const c = open;
    const inferred: string[] = [];
    if (c.freeStart === undefined && c.freeDone !== undefined) {
      const before = seen.filter((m) => m.t < c.freeDone!).at(-1);
      const t = hold !== undefined && before ? before.t + hold : undefined;
      c.freeStart = t !== undefined && t <= c.freeDone ? t : c.freeDone;
      inferred.push(`free_start ${c.freeStart.toFixed(3)} s`);
    }
    if (c.freeStart !== undefined && c.freeDone === undefined) {
      const after = seen.find((m) => m.t > c.freeStart!) ?? next;
      const sleep = after?.name === 'alloc_start' ? gap : after?.name === 'idle_end' ? idle : undefined;
      const t = after && sleep !== undefined ? after.t - sleep : undefined;
      c.freeDone = t !== undefined && t >= c.freeStart ? t : c.freeStart;
      inferred.push(`free_done ${c.freeDone.toFixed(3)} s`);
    }
    if (c.allocStart !== undefined && c.allocDone === undefined && c.freeStart !== undefined) {
      // Done before the cycle's next step, and `hold` before the free.
      const later = seen.find((m) => m.name !== 'alloc_start' && m.t > c.allocStart!)?.t ?? c.freeStart;
      const t = hold !== undefined ? Math.min(later, c.freeStart - hold) : later;
      c.allocDone = t >= c.allocStart ? t : later;
      inferred.push(`alloc_done ${c.allocDone.toFixed(3)} s`);
    }
    if (c.allocStart !== undefined && c.allocDone !== undefined && c.freeStart !== undefined && c.freeDone !== undefined) {
      if (inferred.length) warnings.push(`${run.name}: cycle at ${c.allocStart.toFixed(3)} s: no ${inferred.map((x) => x.split(' ')[0]).join(', ')} marker in serial.log; inferred from the script's timing (${inferred.join(', ')})`);
      cycles.push(c as RunCycle);
    } else warnings.push(`${run.name}: cycle at ${c.allocStart?.toFixed(3)} s lacks ${['allocDone', 'freeStart', 'freeDone'].filter((k) => (c as Record<string, unknown>)[k] === undefined).join(', ')}; left out`);
    open = null;
  };
  for (const m of ms) {
    if (m.name === 'alloc_start') {
      close(m);
      seen = [];
      const asked = m.fields['thp'] ?? thpParam;
      open = { allocStart: m.t, mib: num(m.fields['mib']) ?? mibParam ?? 0, thp: thpOf(asked, guestThpMode) };
      if ((asked === 'huge' || asked === 'madvise') && guestThpMode === 'never') {
        warnings.push(`${run.name}: cycle at ${m.t.toFixed(3)} s asks thp=${asked} on a guest with transparent_hugepage never: 4 KiB pages`);
      }
    } else if (open) {
      seen.push(m);
      if (m.name === 'alloc_done') open.allocDone = m.t;
      else if (m.name === 'frag_start') open.fragStart = m.t;
      else if (m.name === 'frag_done') open.fragDone = m.t;
      else if (m.name === 'free_start') open.freeStart = m.t;
      else if (m.name === 'free_done') {
        open.freeDone = m.t;
        close();
      }
    }
  }
  close();
  for (const c of cycles) {
    if (!(c.mib > 0)) {
      warnings.push(`${run.name}: cycle at ${c.allocStart.toFixed(3)} s: no size (mib=); taken as 0`);
    }
  }

  const orderWrites = ms.filter((m) => m.name === 'rorder_set' && num(m.fields['value']) !== undefined)
    .map((m) => ({ t: m.t, order: num(m.fields['value'])! }));
  const effectiveOrder = num(info['page_reporting_order_effective']) ?? num(run.summary?.page_reporting_order_effective);
  const register = first('balloon_loaded')?.t ?? num(run.summary?.markers_guest_s['balloon_loaded']);
  if (register === undefined) warnings.push(`${run.name}: no balloon_loaded marker; the balloon is taken as registered at the start`);
  const settle = first('settle_done')?.t;
  const preTime = settle ?? (cycles[0] ? cycles[0].allocStart : undefined);
  const offset = clockOffset(run);
  if (offset === undefined) warnings.push(`${run.name}: no clock offset (no @ records, no summary.json); host times taken as guest times`);

  const model: RunModel = {
    name: run.name, exp, kind: kindOf(exp, cycles), params, memMiB, cpus, guestThp, guestThpMode, guestThpFrom, register, orderWrites,
    effectiveOrder, preTime, heldTime: ms.find((m) => m.name === 'snap' || m.name === 'snap_held')?.t,
    writes: recorderWrites(run, ms, preTime, memMiB),
    idleEnd: first('idle_end')?.t, cycles, every: num(params['every']) ?? num(cmd('EVERY')) ?? 2,
    clockOffset: offset ?? 0, warnings,
  };
  const events = traceEvents ?? run.trace?.events();
  if (events) cpusFromNotifies(model, events);
  const fallback = cpuFromCounts(run);
  for (const c of model.cycles) {
    if (c.cpu !== undefined || fallback === undefined) continue;
    c.cpu = fallback;
    c.cpuFrom = 'pcp counts';
  }
  return model;
}

/** The workload cpu when the kprobes do not tell: the one whose per-cpu count the workload moved most. */
function cpuFromCounts(run: Run): number | undefined {
  const counts = (tag: string) => run.proc[tag]?.zoneinfo?.zones.filter((z) => z.pcp.length).flatMap((z) => z.pcp.map((p) => [p.cpu, p.count] as const));
  const pre = counts('pre'), later = counts('held') ?? counts('end');
  if (!pre || !later) return undefined;
  const moved = new Map<number, number>();
  for (const [cpu, n] of later) moved.set(cpu, (moved.get(cpu) ?? 0) + Math.abs(n - (pre.find(([c]) => c === cpu)?.[1] ?? 0)));
  return [...moved.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** Pages of page cache a file of this many bytes leaves. */
const pagesOf = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

function recorderWrites(run: Run, ms: Marker[], preTime: number | undefined, memMiB: number | undefined): RunModel['writes'] {
  const files = (run.meta?.['guest_files'] ?? {}) as Record<string, number>;
  const snapshotPages = (tag: string) => {
    const named = Object.entries(files).filter(([f]) => f.startsWith(`${tag}.`) && !f.startsWith(`${tag}.bin`));
    // Without a file list: the five /proc files of a snapshot, one page each.
    return named.length ? named.reduce((a, [, b]) => a + pagesOf(b), 0) : 5;
  };
  const out: RunModel['writes'] = [];
  if (preTime !== undefined) out.push({ t: preTime, pages: snapshotPages('pre'), what: 'pre snapshot' });
  let kpf = 0;
  for (const m of ms) {
    if (m.name === 'snap') {
      const tag = m.args[0] ?? 'held';
      out.push({ t: m.t, pages: snapshotPages(tag), what: `${tag} snapshot` });
    } else if (m.name === 'kpf_start') {
      // The dump (8 bytes a pfn) and the zoneinfo saved beside it.
      const bytes = Number(m.fields['bytes']) || (memMiB ?? 1024) * 256 * 8;
      out.push({ t: m.t, pages: pagesOf(bytes) + 1, what: `kpageflags dump ${kpf++}` });
    }
  }
  return out;
}

/**
 * The cpu each cycle freed on, and whether another task flushed that cpu's per-cpu lists right after: from
 * the prnotify kprobe, which fires in the freeing task on its cpu whenever a free reaches the reporting order.
 */
function cpusFromNotifies(model: RunModel, events: Iterable<FtraceEvent>): void {
  const notifies: Array<{ t: number; cpu: number; task: string }> = [];
  for (const e of events) if (e.event === 'prnotify') notifies.push({ t: e.ts, cpu: e.cpu, task: e.task });
  for (const c of model.cycles) {
    // The free's own notifies: during the munmap (a little slack for the last batch's drain).
    const during = notifies.filter((n) => n.t >= c.freeStart && n.t <= c.freeDone + 0.002);
    if (!during.length) continue;
    const votes = new Map<string, number>();
    for (const n of during) votes.set(`${n.cpu} ${n.task}`, (votes.get(`${n.cpu} ${n.task}`) ?? 0) + 1);
    const [cpu, task] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]![0].split(' ');
    c.cpu = Number(cpu);
    c.cpuFrom = 'prnotify';
    // After the free: the next process on that cpu frees a small high-order page and flushes the lists, which
    // shows as notifies from another task within a moment of free_done.
    const next = model.cycles[model.cycles.indexOf(c) + 1];
    const until = Math.min(c.freeDone + 0.5, next ? next.allocStart : Infinity);
    c.flushedAfter = notifies.some((n) => n.t > c.freeDone && n.t <= until && n.cpu === c.cpu && n.task !== task);
  }
}
