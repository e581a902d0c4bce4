// Compare a replay or a simulation with a real run: free blocks at the end, reporting passes and the blocks of
// every report() call, and the host RSS staircase after a big free.
import { staircase, type Staircase } from '../sim/staircase.js';
import type { Run } from '../importers/run.js';
import type { FreeBlock } from '../importers/kpageflags.js';
import type { BuddyinfoRow } from '../importers/buddyinfo.js';
import { groupCalls, type ReplayPass, type ReplayReport, type TraceReplayResult } from './trace-replay.js';
import type { RunModel } from './run-model.js';
import { type RunComparison, type RssSample, type Side, type SidePass, type SideReport, realSide, windowOf } from './format.js';

// --- free blocks ---

export interface BlocksComparison {
  real: number;
  sim: number;
  /** Same pfn, order and Reported. */
  same: number;
  /** Same pfn and order, Reported differs. */
  reportedDiffers: number;
  onlyReal: number;
  onlySim: number;
  realPages: number;
  simPages: number;
  /** Pages free in both. */
  commonPages: number;
  realByOrder: number[];
  simByOrder: number[];
  firstDifferences: string[];
}

export function compareBlocks(real: readonly FreeBlock[], sim: readonly FreeBlock[], limit = 10): BlocksComparison {
  const key = (b: FreeBlock) => `${b.pfn}/${b.order}`;
  const r = new Map(real.map((b) => [key(b), b]));
  const s = new Map(sim.map((b) => [key(b), b]));
  let same = 0, reportedDiffers = 0, onlyReal = 0, onlySim = 0;
  const diffs: Array<[number, string]> = [];
  for (const [k, b] of r) {
    const o = s.get(k);
    if (!o) {
      onlyReal++;
      diffs.push([b.pfn, `real ${b.pfn}/${b.order}${b.reported ? 'R' : ''} not free as such in the simulator`]);
    } else if (o.reported !== b.reported) {
      reportedDiffers++;
      diffs.push([b.pfn, `${b.pfn}/${b.order}: Reported real ${b.reported}, simulator ${o.reported}`]);
    } else same++;
  }
  for (const [k, b] of s) {
    if (!r.has(k)) {
      onlySim++;
      diffs.push([b.pfn, `simulator ${b.pfn}/${b.order}${b.reported ? 'R' : ''} not free as such in the real dump`]);
    }
  }
  const pagesOf = (bs: readonly FreeBlock[]) => bs.reduce((a, b) => a + 2 ** b.order, 0);
  const byOrder = (bs: readonly FreeBlock[]) => {
    const c = new Array<number>(11).fill(0);
    for (const b of bs) c[b.order]!++;
    return c;
  };
  // Pages free in both: mark real pages, count sim pages on them.
  const realPages = new Set<number>();
  for (const b of real) for (let p = b.pfn; p < b.pfn + 2 ** b.order; p++) realPages.add(p);
  let commonPages = 0;
  for (const b of sim) for (let p = b.pfn; p < b.pfn + 2 ** b.order; p++) if (realPages.has(p)) commonPages++;
  return {
    real: real.length, sim: sim.length, same, reportedDiffers, onlyReal, onlySim,
    realPages: pagesOf(real), simPages: pagesOf(sim), commonPages, realByOrder: byOrder(real), simByOrder: byOrder(sim),
    firstDifferences: diffs.sort((a, b) => a[0] - b[0]).slice(0, limit).map((d) => d[1]),
  };
}

// --- passes and report() calls ---

export interface PassesComparison {
  real: Array<{ pass: number; t: number; batches: number; blocks: number; bytes: number }>;
  sim: ReplayPass[];
  samePassCount: boolean;
  /** Passes whose batches, blocks and bytes are equal (by position). */
  passesSame: number;
  /** Start time differences sim - real, seconds, by position. */
  startDeltas: number[];
  calls: { real: number; sim: number; same: number };
  blocks: { real: number; sim: number; samePosition: number; sameSet: number };
  firstDifferences: string[];
}

export function comparePasses(run: Run, sim: { reports: ReplayReport[]; passes: ReplayPass[] }, fromGuestS = -Infinity, limit = 10): PassesComparison {
  const realPasses = (run.passes ?? []).filter((p) => p.tStartGuest >= fromGuestS)
    .map((p) => ({ pass: p.pass, t: p.tStartGuest, batches: p.batches, blocks: p.blocks, bytes: p.bytes }));
  const realRows = (run.reports ?? []).filter((r) => realPasses.some((p) => p.pass === r.pass));
  const realCalls = groupCalls(realRows);
  const simCalls = sim.reports.map((r) => r.entries);
  const diffs: string[] = [];
  let passesSame = 0;
  const startDeltas: number[] = [];
  realPasses.forEach((p, i) => {
    const s = sim.passes[i];
    if (!s) {
      diffs.push(`pass ${p.pass} (t=${p.t}): missing in the simulator`);
      return;
    }
    startDeltas.push(+(s.t - p.t).toFixed(6));
    if (s.batches === p.batches && s.blocks === p.blocks && s.bytes === p.bytes) passesSame++;
    else diffs.push(`pass ${p.pass}: real ${p.batches} batches/${p.blocks} blocks/${p.bytes} B, simulator ${s.batches}/${s.blocks}/${s.bytes}`);
  });
  for (let i = realPasses.length; i < sim.passes.length; i++) {
    const s = sim.passes[i]!;
    diffs.push(`simulator pass ${s.pass} (t=${s.t.toFixed(3)}): ${s.batches} batches/${s.blocks} blocks, none in the real run`);
  }
  let callsSame = 0, samePosition = 0;
  const n = Math.max(realCalls.length, simCalls.length);
  for (let i = 0; i < n; i++) {
    const r = realCalls[i] ?? [], s = simCalls[i] ?? [];
    let same = r.length === s.length;
    for (let k = 0; k < Math.max(r.length, s.length); k++) {
      const a = r[k], b = s[k];
      if (a && b && a[0] === b[0] && a[1] === b[1]) samePosition++;
      else {
        same = false;
        if (diffs.length < limit * 2) diffs.push(`call ${i} slot ${k}: real ${a ? a.join('/') : '-'}, simulator ${b ? b.join('/') : '-'}`);
      }
    }
    if (same) callsSame++;
  }
  const realSet = new Set(realCalls.flat().map((e) => e.join('/')));
  const sameSet = simCalls.flat().filter((e) => realSet.has(e.join('/'))).length;
  return {
    real: realPasses, sim: sim.passes, samePassCount: realPasses.length === sim.passes.length, passesSame, startDeltas,
    calls: { real: realCalls.length, sim: simCalls.length, same: callsSame },
    blocks: { real: realCalls.flat().length, sim: simCalls.flat().length, samePosition, sameSet },
    firstDifferences: diffs.slice(0, limit),
  };
}

export interface BuddyinfoComparison { zone: string; real: number[]; sim: number[] }
export function compareBuddyinfo(real: readonly BuddyinfoRow[] | undefined, sim: number[][], zones: string[]): BuddyinfoComparison[] {
  return zones.map((zone, i) => ({ zone, real: real?.find((r) => r.zone === zone)?.counts ?? [], sim: sim[i] ?? [] }));
}

export interface TraceComparison {
  run: string;
  mode: string;
  replay: Omit<TraceReplayResult, 'reports' | 'endBlocks' | 'config' | 'endBuddyinfo' | 'passes'>;
  passes: PassesComparison;
  endBlocks: BlocksComparison;
  endBuddyinfo: BuddyinfoComparison[];
}

export function compareTrace(run: Run, r: TraceReplayResult): TraceComparison {
  const { reports: _r, endBlocks, config, endBuddyinfo, passes: _p, ...replay } = r;
  const post = run.blocks['post'] ?? run.kpageflags['post']?.().blocks ?? [];
  return {
    run: run.name, mode: r.mode, replay,
    passes: comparePasses(run, r, r.start),
    endBlocks: compareBlocks(post, endBlocks),
    endBuddyinfo: compareBuddyinfo(run.proc['end']?.buddyinfo, endBuddyinfo, config.zones.map((z) => z.name)),
  };
}

export { staircase, type Staircase };

/**
 * A trace replay in the one comparison format. The simulator's host RSS is not modelled by the trace replay:
 * its fall is taken from the report() calls (the host discards each reported range when the call comes, and
 * after a free the reported memory is the freed, resident memory).
 */
export function traceRunComparison(run: Run, r: TraceReplayResult, model: RunModel): RunComparison {
  const detail = compareTrace(run, r);
  const { side: real, rss: realRss } = realSide(run, model.clockOffset);
  const reports: SideReport[] = r.reports.flatMap((c) => c.entries.map(([pfn, order], slot) => ({ pass: c.pass, batch: c.batch, slot, pfn, order, t: c.t })));
  const passes: SidePass[] = r.passes.map((p) => ({ pass: p.pass, t: p.t, calls: p.batches, blocks: p.blocks, bytes: p.bytes }));
  const sim: Side = { passes, reports, afterFree: null, boot: null };
  // An RSS curve from the calls: a step down at each one, by its bytes.
  let kib = 0;
  const simRss: RssSample[] = [{ t: r.start, kib: 0 }];
  for (const c of r.reports) {
    kib -= c.entries.reduce((a, [, o]) => a + 4 * 2 ** o, 0);
    simRss.push({ t: c.t, kib });
  }
  simRss.push({ t: r.end, kib });
  const last = model.cycles.at(-1);
  if (last && last.freeStart >= r.start) {
    real.afterFree = windowOf(real, realRss, last.freeStart, r.end);
    sim.afterFree = windowOf(sim, simRss, last.freeStart, r.end);
  }
  const { replay, passes: passCmp, endBlocks, endBuddyinfo } = detail;
  return {
    run: run.name, kind: 'trace', mode: r.mode, warnings: [...run.warnings, ...model.warnings], clockOffset: model.clockOffset, real, sim,
    details: { replay, passes: passCmp, endBlocks, endBuddyinfo, simRss: 'from report() calls' },
  };
}
