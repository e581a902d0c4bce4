// The wasm module's exports, and nothing else.
export {
  setup, initMemory, bytesNeeded, bootFreeRange, alloc, allocMayFail, free, freeRange, placeFreeBlock, allocExact,
  isolate, putback, setPageblockMt, moveFreePages, drainPcp, headOf, rangeFree, releaseRange, reshapeAllocated,
} from './guest';
export { setZone, setLowmemReserve, setWatermarks } from './zone';
export {
  setKnobs, setNormalZone, setReportingOrderValue, setHostModel, resetCounters, sampleCounters,
  maxPfn, firstNotifyOp, hostRssPages, refaults, refaultPages, discardedPages, allocatedPages,
  inflightPages, inflightPeak, allocFailures, allocFailuresInFlight, isolateFailures, pcpDrains, lastPfn,
  pageExtStart, pageblockStart, scratchStart,
} from './state';
export {
  reportBatchReset, reportBatchCount, reportBatchOffset, reportBatchCapacity, reportCycleBegin, reportCycleStep,
  reportDrain, reportSlotPfn, reportSlotOrder,
} from './reporting';
export { hintNext } from './hinting';
export { pcpPlace, pcpSetFreeFactor } from './pcp';
export { hostTouch, hostDiscard, hostResident } from './host';
export { checkInvariants, checkPfn, checkArg } from './check';
export { applyOps, applyOpsUntilFailure, allocBulk, freeBulk, bulkError } from './ops';
export { w1Run, w1FreeAll } from './bench';
export { markHole } from './holes';
export { layoutConstant } from './constants';
