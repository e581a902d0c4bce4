// The device callback interface, mirroring struct page_reporting_dev_info.

/** A batch handed to report(): a zero-copy view of (pfn, order) pairs, valid only during the call. */
export interface ReportBatch {
  /** Guest id (for multi-guest hosts). */
  guest: number;
  zone: number;
  /** Number of entries. */
  length: number;
  /** [pfn0, order0, pfn1, order1, ...] in scatterlist order (index 0 = the last block taken off a list). */
  entries: Uint32Array;
  /** Total pages in the batch. */
  pages: number;
}

export interface ReportingDevice {
  /** Reporting order the driver asks for (prdev->order). undefined = not specified (pageblock order). 5.7/6.1
   *  also read 0 as not specified; linux-next takes 0 as a real order (every free is reported). */
  order?: number | undefined;
  /** Batch capacity (linux-next prdev->capacity); 0, undefined or > 32 means 32. Ignored before linux-next. */
  capacity?: number | undefined;
  /**
   * Report a batch. Returns 0 on success or a negative errno, possibly as a promise. A thrown exception (or a
   * rejected promise) counts as an error: the batch is drained unreported and the pass ends.
   */
  report(batch: ReportBatch): number | Promise<number>;
  /**
   * Simulated time the report takes (ms) on a virtual clock: allocations and frees go on meanwhile, as when the
   * kernel drops the zone lock. Default 0.
   */
  latencyMs?(batch: ReportBatch): number;
}

export const EBUSY = -16;
export const EIO = -5;
export const ENOSPC = -28;
