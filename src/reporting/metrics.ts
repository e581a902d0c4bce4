// Counters of the reporting side, one object per guest.

export interface ReportingMetrics {
  reportCalls: number;
  reportErrors: number;
  deviceExceptions: number;
  blocksReported: number;
  pagesReported: number;
  bytesReported: number;
  /** Pages in successful reports that had been reported before (merged blocks lose Reported). */
  pagesReportedAgain: number;
  passes: number;
  budgetExhaustions: number;
  zoneGateSkips: number;
  isolationFailures: number;
  /** Blocks reported by order (successful reports). */
  reportedByOrder: number[];
  /** Zone lock acquisitions by the worker (one per list cycle, one per drain). */
  lockAcquisitions: number;
}

export function emptyMetrics(): ReportingMetrics {
  return {
    reportCalls: 0, reportErrors: 0, deviceExceptions: 0, blocksReported: 0, pagesReported: 0, bytesReported: 0,
    pagesReportedAgain: 0, passes: 0, budgetExhaustions: 0, zoneGateSkips: 0, isolationFailures: 0,
    reportedByOrder: new Array(11).fill(0), lockAcquisitions: 0,
  };
}
