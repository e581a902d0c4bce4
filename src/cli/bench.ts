// `prsim bench` / `npm run bench`: W1, W2 and W3 of ../shared/docs/benchmarks.md, W3 scaled and the guest-minute,
// measured side by side in one run; with --baseline, a previous build runs the same figures in turn with this one.
// Figures are printed, never asserted; the summary table sets each against its target.
import { readFileSync, existsSync } from 'node:fs';
import { ReferenceAllocator } from '../model/reference.js';
import { w1Wasm, w1Reference, median } from '../bench/w1.js';
import { compileNativeW1, runNativeW1 } from '../bench/native.js';
import { w2 } from '../bench/w2.js';
import { w1Instructions, w1WasmInstructions, w1Once } from '../bench/instructions.js';
import { w3, w3Scaled, guestMinuteSpec, REAL_KERNEL } from '../bench/w3.js';
import { currentSubject, loadSubject, bytesPerPage, type Subject } from '../bench/subject.js';
import { TARGETS, summaryTable, type Figure } from '../bench/summary.js';
import { sweepScaling } from '../bench/sweep-scaling.js';
import { parse } from './args.js';
import type { Io } from './io.js';
import { UsageError } from './usage-error.js';

const fmt = (x: number, d = 2) => x.toFixed(d);

/** Wall ms of one guest-minute (guestMinuteSpec) of a subject. */
async function guestMinuteMs(s: Subject): Promise<number> {
  return (await s.lib.simulate(guestMinuteSpec())).wallMs;
}

const WORKLOADS = ['w1', 'w2', 'w3', 'sweep'];

/** --only w1,w3: each name a workload; an empty or unknown name is refused rather than running nothing (or all). */
function onlyList(text: string): Set<string> {
  const names = text.split(',').map((s) => s.trim().toLowerCase());
  const bad = names.find((n) => !WORKLOADS.includes(n));
  if (bad !== undefined) throw new UsageError(`bench: --only: expected a comma-separated list of ${WORKLOADS.join(', ')}, got '${text}'${bad === '' ? '' : ` ('${bad}' is not a workload)`}`);
  return new Set(names);
}

export const BENCH_USAGE = `usage: prsim bench [--quick] [--only w1,w2,w3,sweep] [--instructions] [--baseline <dist/index.js>] [--json]

Runs the workloads of ../shared/docs/benchmarks.md side by side: W1 on the wasm core, the reference model
and a native C build (when a C compiler is present, with its best flags), W2, W3, W3 scaled to 64 GiB and a
guest-minute (1 GiB guest, 60 simulated s, 512 MiB memhog), sweep throughput with N shards on N cores, then a
table of each figure against its target.
--instructions also counts instructions per W1 step, wasm and native, with valgrind (when present).
--baseline runs a previous build (its library bundle, dist/index.js) through the same figures, taking turns
with this one, and shows its figures beside these.
`;

export async function benchCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse('bench', args, {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    instructions: { type: 'boolean', default: false },
    'w1-once': { type: 'string' },
    baseline: { type: 'string' },
  }, 0);
  if (values.help) {
    io.out(BENCH_USAGE);
    return 0;
  }
  let status = 0;
  // The child of --instructions: one W1 run under callgrind.
  if (values['w1-once'] !== undefined) {
    const steps = Number(values['w1-once']);
    if (!Number.isInteger(steps) || steps <= 0) throw new UsageError(`bench: --w1-once: expected a positive step count, got '${values['w1-once']}'`);
    w1Once(steps);
    return 0;
  }
  const runs = values.quick ? 1 : 5;
  const ops = values.quick ? 1_000_000 : 10_000_000;
  const only = values.only !== undefined ? onlyList(values.only) : null;
  const want = (w: string) => !only || only.has(w);
  const out: Record<string, unknown> = { runs, ops };
  const log = (s: string) => { if (!values.json) io.out(`${s}\n`); };
  const now = currentSubject();
  const base = values.baseline ? await loadSubject(values.baseline) : null;
  if (base) log(`previous build: ${base.modulePath}`);
  const figures: Figure[] = [];
  const figure = (name: string, unit: string, target: Figure['target'], nowV: number | null, prevV: number | null, digits = 2) =>
    figures.push({ name, unit, target, now: nowV, previous: prevV, digits });

  if (want('w1')) {
    log(`W1 churn: N = 2^20, OPS = ${ops}, median of ${runs} runs`);
    const rows = [];
    const pairedNative: number[] = [];
    const native = compileNativeW1();
    if (!native) log('  (no C compiler: the native comparison is skipped)');
    else log(`  native C build: ${native.cc} ${native.flags.join(' ')} bench/native/w1.c`);
    // Warm-up: V8 compiles w1Run with its baseline compiler first and cannot swap a running call to optimised
    // code, so without this the first timed run would measure the baseline tier.
    w1Wasm(2 ** 14, 1, 200_000, 1);
    if (base) w1Wasm(2 ** 14, 1, 200_000, 1, base);
    const pairedBase: number[] = [];
    const baseNs: number[] = [];
    const seeds = [1, 2, 3];
    let identicalSeeds = 0;
    for (const seed of seeds) {
      let baseSame = true;
      // Interleaved (wasm, native, reference, then again), wasm and native back to back: a slow phase of a shared
      // machine hits a pair alike, so the ratio is taken per pair (the median of the paired ratios). A previous
      // build's wasm runs right after the native one, so it forms a pair with it too.
      const w: ReturnType<typeof w1Wasm>[] = [], r: ReturnType<typeof w1Reference>[] = [], n: ReturnType<typeof runNativeW1>[] = [];
      for (let i = 0; i < runs; i++) {
        w.push(w1Wasm(2 ** 20, seed, ops, 1));
        if (native) n.push(runNativeW1(native.bin, 20, seed, ops, 1));
        if (base) {
          const b = w1Wasm(2 ** 20, seed, ops, 1, base);
          if (b.line.join(' ') !== w[w.length - 1]!.line.join(' ')) {
            log(`  previous build's line differs: ${b.line.join(' ')}`);
            status = 1;
            baseSame = false;
          }
          baseNs.push(b.medianNs);
          if (native) pairedBase.push(b.medianNs / n[n.length - 1]!.medianNs);
        }
        r.push(w1Reference((c) => new ReferenceAllocator(c), 2 ** 20, seed, ops, 1));
      }
      const pick = <T extends { line: number[]; nsPerStep: number[] }>(xs: T[]) => {
        const ns = xs.map((x) => x.nsPerStep[0]!);
        return { ...xs[0]!, nsPerStep: ns, medianNs: median(ns) };
      };
      const wasm = pick(w), ref = pick(r), nat = native ? pick(n) : null;
      const paired = (xs: number[]) => median(xs.map((x, i) => x / wasm.nsPerStep[i]!));
      const refRatio = paired(ref.nsPerStep);
      const nativeRatio = nat ? 1 / paired(nat.nsPerStep) : null;
      pairedNative.push(...(nat ? nat.nsPerStep.map((x, i) => wasm.nsPerStep[i]! / x) : []));
      const lines = [wasm.line, ref.line, ...(nat ? [nat.line] : [])].map((l) => l.join(' '));
      const same = lines.every((l) => l === lines[0]);
      log(`  wasm      ${lines[0]}`);
      log(`  reference ${lines[1]}`);
      if (nat) log(`  native C  ${lines[2]}`);
      log(`  seed ${seed}: wasm ${fmt(wasm.medianNs)} ns/step, reference ${fmt(ref.medianNs)} ns/step (reference/wasm ${fmt(refRatio)}x)` +
        (nat ? `, native C ${fmt(nat.medianNs)} ns/step (wasm/native ${fmt(nativeRatio!)}x)` : '') +
        `, lines ${same ? 'identical' : 'DIFFER'}, ${fmt(wasm.bytesPerPage)} bytes of linear memory per page`);
      rows.push({
        seed, wasmLine: wasm.line, refLine: ref.line, identical: same, wasmNs: wasm.medianNs, refNs: ref.medianNs,
        nativeNs: nat?.medianNs ?? null, refOverWasm: refRatio, wasmOverNative: nativeRatio, bytesPerPage: wasm.bytesPerPage,
      });
      if (!same) status = 1;
      if (same && baseSame) identicalSeeds++;
    }
    out.w1 = rows;
    out.w1Native = native ? { cc: native.cc, flags: native.flags } : null;
    const wasmNs = median(rows.map((r) => r.wasmNs));
    if (pairedNative.length) {
      const ratios = [...pairedNative].sort((a, b) => a - b);
      log(`  wasm/native over all ${ratios.length} pairs: median ${fmt(median(ratios))}x (range ${fmt(ratios[0]!)} to ${fmt(ratios[ratios.length - 1]!)})` +
        (pairedBase.length ? `; previous build ${fmt(median(pairedBase))}x` : ''));
      out.w1WasmOverNative = median(ratios);
      figure(`W1 wasm / native C (${native!.flags.join(' ')}), median of pairs`, 'x', TARGETS.w1OverNative, median(ratios), pairedBase.length ? median(pairedBase) : null);
    }
    figure('W1 wasm, ns per step (median of the seeds\' medians)', 'ns', null, wasmNs, baseNs.length ? median(baseNs) : null);
    figure('W1 reference model / wasm', 'x', TARGETS.referenceOverWasm, median(rows.map((r) => r.refOverWasm)), null);
    figure(`W1 seeds whose result lines are identical: wasm = reference${native ? ' = native C' : ''}${base ? ' = previous build' : ''}`,
      `of ${seeds.length} seeds`, { op: '>=', value: seeds.length }, identicalSeeds, null, 0);
    const big = w1Wasm(2 ** 24, 1, ops, 1);
    log(`  64 GiB guest (N = 2^24): ${big.line.join(' ')}  ${fmt(big.medianNs)} ns/step, ${fmt(big.bytesPerPage)} bytes/page`);
    const maxPages = now.lib.maxGuestPages();
    log(`  largest guest in wasm32: ${maxPages} pages = ${fmt((maxPages * 4096) / 2 ** 30, 1)} GiB`);
    out.w1Big = { line: big.line, ns: big.medianNs };
    figure('linear memory per page, 64 GiB guest (N = 2^24)', 'bytes', TARGETS.bytesPerPage64GiB, bytesPerPage(now, 2 ** 24), base ? bytesPerPage(base, 2 ** 24) : null);
    figure('largest guest in one instance (pfn span)', 'GiB', TARGETS.largestGuestGiB, (maxPages * 4096) / 2 ** 30, base ? (base.lib.maxGuestPages() * 4096) / 2 ** 30 : null, 1);
    if (values.instructions) {
      const ins = w1Instructions(process.argv[1]!, native);
      if (!ins) log('  (no valgrind: instructions per step are not counted)');
      else {
        const prev = base ? w1WasmInstructions(process.argv[1]!, base.modulePath) : null;
        log(`  instructions per W1 step (callgrind): wasm ${fmt(ins.wasm, 1)}` +
          (ins.native !== null ? `, native C ${fmt(ins.native, 1)} (${ins.nativeFlags!.join(' ')}; wasm/native ${fmt(ins.wasm / ins.native)}x)` : '') +
          (prev !== null ? `; previous build's wasm ${fmt(prev, 1)}` : ''));
        out.w1Instructions = { ...ins, previous: prev };
        figure('W1 instructions per step, wasm (callgrind)', 'instr', null, ins.wasm, prev, 1);
        if (ins.native !== null) figure('W1 instructions, wasm / native C', 'x', null, ins.wasm / ins.native, prev !== null ? prev / ins.native : null);
      }
    }
    out.maxGuestPages = maxPages;
  }
  if (want('w2')) {
    const r = w2();
    log(`W2 drain (N = 2^22, 2M steps, free all, capacity 32, order 9): ${r.reportCalls} report() calls, ${r.pagesReported} pages reported, ${r.passes} passes, idle after ${r.simSecondsUntilIdle} simulated s, wall ${fmt(r.wallMs, 1)} ms, ${fmt(r.wallUsPerCall, 1)} us per call`);
    out.w2 = r;
  }
  if (want('w3')) {
    const r = await w3();
    const st = r.stairs;
    log(`W3 memhog (1 GiB guest${existsSync(`${REAL_KERNEL}/E2_memhog512_r1`) ? ', zones from E2 pre.zoneinfo' : ''}): RSS ${fmt(st.atFree / 1024, 0)} MiB at the free -> final ${fmt(st.final / 1024, 0)} MiB; t50 ${st.t50.toFixed(2)} s, t90 ${st.t90.toFixed(2)} s; steps ${st.steps.map((s) => `+${s.t.toFixed(2)}s -${fmt(s.kib / 1024, 0)}MiB`).join(', ')}; ${fmt(r.simSecondsPerWallSecond, 1)} simulated s per wall s`);
    const sumFile = `${REAL_KERNEL}/E2_memhog512_r1/summary.json`;
    if (existsSync(sumFile)) {
      const s = JSON.parse(readFileSync(sumFile, 'utf8'));
      log(`  real E2: RSS drop ${fmt(s.rss_drop_kib / 1024, 0)} MiB, t50 ${Number(s.t50_after_free_start_s).toFixed(2)} s, t90 ${Number(s.t90_after_free_start_s).toFixed(2)} s, passes after free at ${JSON.stringify(s.passes_after_free_guest_s)}`);
    }
    out.w3 = { stairs: st, simSecondsPerWallSecond: r.simSecondsPerWallSecond };

    // The guest-minute, after a warm-up, this build and the previous one taking turns.
    const rounds = values.quick ? 5 : 21;
    for (let i = 0; i < 3; i++) {
      await guestMinuteMs(now);
      if (base) await guestMinuteMs(base);
    }
    const gm: number[] = [], gmBase: number[] = [];
    for (let i = 0; i < rounds; i++) {
      gm.push(await guestMinuteMs(now));
      if (base) gmBase.push(await guestMinuteMs(base));
    }
    log(`guest-minute (1 GiB guest, 60 simulated s, 512 MiB memhog; in-process, after a warm-up): median ${fmt(median(gm))} ms of wall time over ${rounds} runs (${fmt(60_000 / median(gm), 0)}x real time)` +
      (base ? `; previous build ${fmt(median(gmBase))} ms` : ''));
    out.guestMinute = { medianMs: median(gm), runs: gm, previousMedianMs: base ? median(gmBase) : null };
    figure('guest-minute: 1 GiB, 60 s, memhog 512 MiB (median, after warm-up)', 'ms', TARGETS.guestMinuteMs, median(gm), base ? median(gmBase) : null);

    // W3 scaled: the first run in this process pays for mapping the guest's 210 MB of fresh linear memory; later
    // runs take it from the pool a finished simulation leaves. Both are shown; a previous build has no pool.
    const mops = (r: { pageOpsPerWallSecond: number }) => r.pageOpsPerWallSecond / 1e6;
    const first = await w3Scaled(64, 48, now.lib.simulate);
    const again: number[] = [], prev: number[] = [];
    const reps = values.quick ? 1 : 3;
    for (let i = 0; i < reps; i++) {
      if (base) prev.push(mops(await w3Scaled(64, 48, base.lib.simulate)));
      again.push(mops(await w3Scaled(64, 48, now.lib.simulate)));
    }
    log(`W3 scaled (64 GiB guest, 48 GiB memhog): ${first.result.pageOps} page ops in ${fmt(first.result.wallMs / 1000)} s wall = ${fmt(mops(first))} M page ops per wall s (end to end, first run in the process); repeated: ${again.map((x) => fmt(x)).join(', ')}` +
      (base ? `; previous build ${prev.map((x) => fmt(x)).join(', ')}` : ''));
    out.w3Scaled = {
      pageOps: first.result.pageOps, wallMs: first.result.wallMs, pageOpsPerWallSecond: first.pageOpsPerWallSecond,
      repeatedMops: again, previousMops: base ? prev : null,
    };
    figure('W3 scaled, M page ops per wall s (first run in the process)', 'M/s', TARGETS.w3ScaledMops, mops(first), base ? median(prev) : null);
    figure('W3 scaled, M page ops per wall s (repeated in-process, median)', 'M/s', TARGETS.w3ScaledMops, median(again), base ? median(prev) : null);
  }
  if (want('sweep')) {
    const r = await sweepScaling(process.argv[1]!, { points: values.quick ? 48 : 960, runs: values.quick ? 1 : 3 });
    log(`Sweep throughput, N shards on N cores (${r.points} points of a ${r.guestMiB} MiB guest over ${r.durationS} s, one prsim process per shard${r.pinned ? ', shard k pinned to core k' : ' (not pinned: no taskset)'}, median of ${values.quick ? 1 : 3}):`);
    for (const x of r.rows) {
      const cpu = x.coresUsed !== null ? ` (the shards got ${fmt(x.coresUsed)} cores; ${fmt(x.pointsPerCpuS!)} points per CPU-second)` : '';
      log(`  ${x.shards} shard${x.shards === 1 ? ' ' : 's'}: ${fmt(x.medianWallS)} s wall, ${fmt(x.pointsPerS)} points/s, ${fmt(x.ratio)}x one shard${cpu}; merged rows ${x.identical ? 'identical to one shard' : 'DIFFER'}`);
      if (!x.identical) status = 1;
      // --quick's 48 points take under a second a shard, mostly Node's start-up: no figure for the target.
      if (x.shards > 1 && !values.quick) figure(`sweep, ${x.shards} shards on ${x.shards} cores, over one shard on one core`, 'x', { op: '>=', value: TARGETS.sweepPerCoreEfficiency.value * x.shards }, x.ratio, null);
    }
    out.sweep = r;
  }
  if (figures.length) {
    log('\nSummary (each figure against its target' + (base ? ' and the previous build, measured in this run' : '') + '):');
    log(summaryTable(figures));
    out.summary = figures;
  }
  if (values.json) io.out(`${JSON.stringify(out, null, 2)}\n`);
  return status;
}

