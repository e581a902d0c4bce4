// Guest-wide settings and counters, kept in wasm globals (cheaper to reach than memory). The counters' updates are
// @inline: Binaryen would otherwise keep some as calls (each is a call per allocation in a hot loop).
import { OUT_START, OUT_SAMPLE, OUT_NOTIFY, NR_ORDERS, NR_FREE_START } from './layout';

// geometry, set by setup()
export let maxPfn: u32 = 0;
export let nrZones: u32 = 0;
export let nrCpus: u32 = 1;
export let pageExtStart: usize = 0;
export let pageblockStart: usize = 0;
export let scratchStart: usize = 0;

// profile knobs (data, not code: see src/core/profiles.ts)
export let moveToTail: bool = true;
export let bootToTail: bool = true;
export let putbackTail: bool = true;
export let pcpEnabled: bool = true;
export let pcpOrderMask: u32 = 0b1000001111; // orders 0..3 and 9
/** pcpOrderMask when per-cpu lists are on, else 0: the hot paths test one word. */
export let pcpUseMask: u32 = 0b1000001111;
export let pcpFreeFactor: bool = true;
export let mergeStopUnmergeable: bool = true;
/** Position of the Normal zone (ALLOC_NOFRAGMENT applies to allocations that prefer it), or 255. */
export let normalZone: u32 = 255;

// reporting
export let reportingOrder: u32 = 255;
export let currentOp: i32 = -1;
export let firstNotifyOp: i32 = -1;

// host model
export let hostShift: u32 = 0;
/** pfn & hostPfnMask: the first pfn of its host page (~(2^hostShift - 1)). */
export let hostPfnMask: u32 = 0xffffffff;
export let touchOnAlloc: bool = false;
export let hostRssPages: u32 = 0;
export let refaults: u32 = 0;
export let refaultPages: u32 = 0;
export let discardedPages: u32 = 0;

// counters
export let allocatedPages: u32 = 0;
export let inflightPages: u32 = 0;
export let inflightPeak: u32 = 0;
export let allocFailures: u32 = 0;
export let allocFailuresInFlight: u32 = 0;
export let isolateFailures: u32 = 0;
export let pcpDrains: u32 = 0;

// result side channel of the last free: the head pfn the block ended at (an allocation returns its pfn)
export let lastPfn: u32 = 0;

export function setGeometry(pfns: u32, zones: u32, cpus: u32, extStart: usize, pbStart: usize, scStart: usize): void {
  maxPfn = pfns;
  nrZones = zones;
  nrCpus = cpus;
  pageExtStart = extStart;
  pageblockStart = pbStart;
  scratchStart = scStart;
}

export function setKnobs(m2t: bool, b2t: bool, p2t: bool, pcp: bool, pcpMask: u32, ff: bool, stopUnmergeable: bool): void {
  moveToTail = m2t;
  bootToTail = b2t;
  putbackTail = p2t;
  pcpEnabled = pcp;
  pcpOrderMask = pcpMask;
  pcpUseMask = pcp ? pcpMask : 0;
  pcpFreeFactor = ff;
  mergeStopUnmergeable = stopUnmergeable;
}

export function setReportingOrderValue(order: u32): void { reportingOrder = order; }
// notifyCount lives in memory (OUT word OUT_NOTIFY), where TypeScript reads and clears it without a call.
@inline function notifyAddr(): usize { return <usize>OUT_START + <usize>(OUT_NOTIFY << 2); }
export function addNotify(): void {
  addNotifies(1);
}
@inline export function addNotifies(n: u32): void {
  store<u32>(notifyAddr(), load<u32>(notifyAddr()) + n);
  if (firstNotifyOp < 0) firstNotifyOp = currentOp;
}
@inline export function setCurrentOp(i: i32): void { currentOp = i; }
export function resetFirstNotifyOp(): void { firstNotifyOp = -1; }

export function setHostModel(shift: u32, touch: bool): void {
  hostShift = shift;
  hostPfnMask = ~((<u32>1 << shift) - 1);
  touchOnAlloc = touch;
}
@inline export function addRss(pages: i32): void { hostRssPages = <u32>(<i32>hostRssPages + pages); }
@inline export function addRefault(pages: u32): void { refaults++; refaultPages += pages; }
@inline export function addDiscarded(pages: u32): void { discardedPages += pages; }

@inline export function addAllocated(pages: i32): void { allocatedPages = <u32>(<i32>allocatedPages + pages); }
@inline export function addInflight(pages: i32): void {
  inflightPages = <u32>(<i32>inflightPages + pages);
  if (inflightPages > inflightPeak) inflightPeak = inflightPages;
}
export function countAllocFailure(): void {
  allocFailures++;
  if (inflightPages > 0) allocFailuresInFlight++;
}
/** Undo the count of a failure its caller falls back from (allocMayFail). */
export function restoreAllocFailures(failures: u32, inFlight: u32): void {
  allocFailures = failures;
  allocFailuresInFlight = inFlight;
}
@inline export function countIsolateFailure(): void { isolateFailures++; }
@inline export function countPcpDrain(): void { pcpDrains++; }
@inline export function setLastPfn(p: u32): void { lastPfn = p; }
export function resetCounters(): void {
  allocFailures = 0; allocFailuresInFlight = 0; isolateFailures = 0; pcpDrains = 0;
  inflightPeak = inflightPages; refaults = 0; refaultPages = 0; discardedPages = 0;
  store<u32>(notifyAddr(), 0);
}

/** A fresh memory image has nothing allocated or in flight until populate() says so. */
export function resetPageCounters(): void {
  allocatedPages = 0;
  inflightPages = 0;
  inflightPeak = 0;
  hostRssPages = 0;
}

export function setNormalZone(z: u32): void { normalZone = z; }

/**
 * One sample of the counters a time series records, written to OUT from word OUT_SAMPLE (layout.ts): one call
 * instead of a read-out per counter. Free pages by order sum nr_free << order over the zones (ISOLATE lists
 * included, as buddyinfo counts them).
 */
export function sampleCounters(): void {
  const out = <usize>OUT_START + <usize>(OUT_SAMPLE << 2);
  let free: u32 = 0;
  for (let o: u32 = 0; o < NR_ORDERS; o++) {
    let n: u32 = 0;
    for (let z: u32 = 0; z < nrZones; z++) n += load<u32>(<usize>NR_FREE_START + (<usize>(z * NR_ORDERS + o) << 2));
    store<u32>(out + (<usize>o << 2), n << o);
    free += n << o;
  }
  store<u32>(out, free, NR_ORDERS * 4);
  store<u32>(out, inflightPages, NR_ORDERS * 4 + 4);
  store<u32>(out, allocatedPages, NR_ORDERS * 4 + 8);
  store<u32>(out, hostRssPages, NR_ORDERS * 4 + 12);
  store<u32>(out, refaults, NR_ORDERS * 4 + 16);
}
