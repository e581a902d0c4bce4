// `prsim bench` / `npm run bench`: W1, W2 and W3 of ../shared/docs/benchmarks.md, measured side by side in one
// run. Figures are printed, never asserted.
import { readFileSync, existsSync } from 'node:fs';
import { ReferenceAllocator } from '../model/reference.js';
import { maxGuestPages } from '../core/guest.js';
import { w1Wasm, w1Reference, median } from '../bench/w1.js';
import { compileNativeW1, runNativeW1 } from '../bench/native.js';
import { w2 } from '../bench/w2.js';
import { w1Instructions, w1Once } from '../bench/instructions.js';
import { parse } from './args.js';
import type { Io } from './io.js';
import { UsageError } from './usage-error.js';
import { w3, w3Scaled, REAL_KERNEL } from '../bench/w3.js';
import { sweepScaling } from '../bench/sweep-scaling.js';

const fmt = (x: number, d = 2) => x.toFixed(d);

const WORKLOADS = ['w1', 'w2', 'w3'];

/** --only w1,w3: each name a workload; an empty or unknown name is refused rather than running nothing (or all). */
function onlyList(text: string): Set<string> {
  const names = text.split(',').map((s) => s.trim().toLowerCase());
  const bad = names.find((n) => !WORKLOADS.includes(n));
  if (bad !== undefined) throw new UsageError(`bench: --only: expected a comma-separated list of ${WORKLOADS.join(', ')}, got '${text}'${bad === '' ? '' : ` ('${bad}' is not a workload)`}`);
  return new Set(names);
}

export const BENCH_USAGE = `usage: prsim bench [--quick] [--only w1,w2,w3,sweep] [--instructions] [--json]

Runs the workloads of ../shared/docs/benchmarks.md side by side: W1 on the wasm core, the reference model
and a native C build (when a C compiler is present), W2, W3 and W3 scaled to 64 GiB, and sweep throughput with N shards on N cores.
--instructions also counts instructions per W1 step, wasm and native, with valgrind (when present).
`;

export async function benchCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse('bench', args, {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    instructions: { type: 'boolean', default: false },
    'w1-once': { type: 'string' },
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

  if (want('w1')) {
    log(`W1 churn: N = 2^20, OPS = ${ops}, median of ${runs} runs`);
    const rows = [];
    const pairedNative: number[] = [];
    const native = compileNativeW1();
    if (!native) log('  (no C compiler: the native comparison is skipped)');
    // Warm-up: V8 compiles w1Run with its baseline compiler first and cannot swap a running call to optimised
    // code, so without this the first timed run would measure the baseline tier.
    w1Wasm(2 ** 14, 1, 200_000, 1);
    for (const seed of [1, 2, 3]) {
      // Interleaved (wasm, native, reference, then again), wasm and native back to back: a slow phase of a shared
      // machine hits a pair alike, so the ratio is taken per pair (the median of the paired ratios).
      const w: ReturnType<typeof w1Wasm>[] = [], r: ReturnType<typeof w1Reference>[] = [], n: ReturnType<typeof runNativeW1>[] = [];
      for (let i = 0; i < runs; i++) {
        w.push(w1Wasm(2 ** 20, seed, ops, 1));
        if (native) n.push(runNativeW1(native, 20, seed, ops, 1));
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
    }
    out.w1 = rows;
    if (pairedNative.length) {
      const ratios = [...pairedNative].sort((a, b) => a - b);
      log(`  wasm/native over all ${ratios.length} pairs: median ${fmt(median(ratios))}x (range ${fmt(ratios[0]!)} to ${fmt(ratios[ratios.length - 1]!)})`);
      out.w1WasmOverNative = median(ratios);
    }
    const big = w1Wasm(2 ** 24, 1, ops, 1);
    log(`  64 GiB guest (N = 2^24): ${big.line.join(' ')}  ${fmt(big.medianNs)} ns/step, ${fmt(big.bytesPerPage)} bytes/page`);
    const maxPages = maxGuestPages();
    log(`  largest guest in wasm32: ${maxPages} pages = ${fmt((maxPages * 4096) / 2 ** 30, 1)} GiB`);
    out.w1Big = { line: big.line, ns: big.medianNs };
    if (values.instructions) {
      const ins = w1Instructions(process.argv[1]!, native);
      if (!ins) log('  (no valgrind: instructions per step are not counted)');
      else {
        log(`  instructions per W1 step (callgrind): wasm ${fmt(ins.wasm, 0)}` +
          (ins.native !== null ? `, native C ${fmt(ins.native, 0)} (wasm/native ${fmt(ins.wasm / ins.native)}x)` : ''));
        out.w1Instructions = ins;
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
    const big = await w3Scaled();
    log(`W3 scaled (64 GiB guest, 48 GiB memhog): ${big.result.pageOps} page ops in ${fmt(big.result.wallMs / 1000)} s wall = ${(big.pageOpsPerWallSecond / 1e6).toFixed(2)} M page ops per wall s (end to end)`);
    out.w3Scaled = { pageOps: big.result.pageOps, wallMs: big.result.wallMs, pageOpsPerWallSecond: big.pageOpsPerWallSecond };
  }
  if (want('sweep')) {
    const r = await sweepScaling(process.argv[1]!, { points: values.quick ? 48 : 240, runs: values.quick ? 1 : 3 });
    log(`Sweep throughput, N shards on N cores (${r.points} points of a ${r.guestMiB} MiB guest over ${r.durationS} s, one prsim process per shard, median of ${values.quick ? 1 : 3}):`);
    for (const x of r.rows) {
      const cpu = x.coresUsed !== null ? ` (the shards got ${fmt(x.coresUsed)} cores; ${fmt(x.pointsPerCpuS!)} points per CPU-second)` : '';
      log(`  ${x.shards} shard${x.shards === 1 ? ' ' : 's'}: ${fmt(x.medianWallS)} s wall, ${fmt(x.pointsPerS)} points/s, ${fmt(x.ratio)}x one shard${cpu}; merged rows ${x.identical ? 'identical to one shard' : 'DIFFER'}`);
      if (!x.identical) status = 1;
    }
    out.sweep = r;
  }
  if (values.json) io.out(`${JSON.stringify(out, null, 2)}\n`);
  return status;
}

