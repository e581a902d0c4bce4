// Reporting devices: the virtio-balloon guest driver in front of a QEMU host, and test devices.
import type { ReportBatch, ReportingDevice } from '../reporting/device.js';
import { EIO, ENOSPC } from '../reporting/device.js';
import { SimError } from '../core/errors.js';
import type { QemuHost } from './qemu.js';

/** prdev->order of a device: unspecified, or an order 0..10. */
function checkOrder(who: string, order: number | undefined): void {
  if (order !== undefined && !(Number.isInteger(order) && order >= 0 && order <= 10)) {
    throw new SimError('BAD_CONFIG', `${who}: order must be an integer 0..10, got ${order}`, { field: 'order', value: order });
  }
}

function checkInner(who: string, inner: unknown): void {
  if (inner === null || typeof inner !== 'object' || typeof (inner as ReportingDevice).report !== 'function') {
    throw new SimError('BAD_ARGUMENT', `${who}: the inner device must have a report(batch) method`, { field: 'inner' });
  }
}

export interface VirtioBalloonOptions {
  /** Descriptors of the reporting virtqueue (QEMU: 32 entries a request; a full queue fails the report). */
  queueSize?: number;
  /** prdev->order the driver asks for; default: none (virtio-balloon on x86 leaves it unspecified). */
  order?: number;
  capacity?: number;
}

/**
 * virtballoon_free_page_report: queue the scatterlist on the reporting virtqueue, kick the host, wait for it
 * to come back. QEMU always completes it; a queue without room for the batch is an error.
 */
export class VirtioBalloonDevice implements ReportingDevice {
  /** undefined = not specified: 5.7/6.1 read that as 0, linux-next as "use the pageblock order" (where an
   *  explicit 0 would mean order-0 reporting). */
  readonly order: number | undefined;
  readonly capacity: number | undefined;
  readonly queueSize: number;
  queueFull = 0;

  constructor(readonly host: QemuHost, opts: VirtioBalloonOptions = {}) {
    this.order = opts.order;
    this.capacity = opts.capacity;
    this.queueSize = opts.queueSize ?? 128;
    checkOrder('VirtioBalloonDevice', this.order);
    if (this.capacity !== undefined && !(Number.isInteger(this.capacity) && this.capacity >= 0)) {
      throw new SimError('BAD_CONFIG', `VirtioBalloonDevice: capacity must be an integer >= 0, got ${this.capacity}`, { field: 'capacity', value: this.capacity });
    }
    if (!(Number.isInteger(this.queueSize) && this.queueSize >= 1)) {
      throw new SimError('BAD_CONFIG', `VirtioBalloonDevice: queueSize must be an integer >= 1, got ${this.queueSize}`, { field: 'queueSize', value: this.queueSize });
    }
  }

  report(batch: ReportBatch): number {
    // The driver waits for each report to come back, so one request at most is queued: it must fit.
    if (batch.length > this.queueSize) {
      this.queueFull++;
      return ENOSPC;
    }
    this.host.handleReport(batch);
    return 0;
  }

  latencyMs(batch: ReportBatch): number {
    return this.host.latencyMs(batch);
  }
}

/** Accepts every report at once and does nothing with it. */
export class NullDevice implements ReportingDevice {
  calls = 0;
  /** `order`: prdev->order, default not specified. */
  constructor(readonly order?: number) {
    checkOrder('NullDevice', order);
  }
  report(): number {
    this.calls++;
    return 0;
  }
}

/** Fails every k-th call (k = 1: every call) with EIO. */
export class FailingDevice implements ReportingDevice {
  calls = 0;
  constructor(readonly every: number, readonly inner: ReportingDevice = new NullDevice()) {
    if (!(Number.isInteger(every) && every >= 1)) throw new SimError('BAD_CONFIG', `FailingDevice: every must be an integer >= 1, got ${every}`, { field: 'every', value: every });
    checkInner('FailingDevice', inner);
  }
  get order(): number | undefined { return this.inner.order; }
  get capacity(): number | undefined { return this.inner.capacity; }
  report(batch: ReportBatch): number | Promise<number> {
    this.calls++;
    if (this.calls % this.every === 0) return EIO;
    return this.inner.report(batch);
  }
  latencyMs(batch: ReportBatch): number {
    return this.inner.latencyMs ? this.inner.latencyMs(batch) : 0;
  }
}

/** Takes `ms` of simulated time per report (plus whatever the inner device takes). */
export class SlowDevice implements ReportingDevice {
  constructor(readonly ms: number, readonly inner: ReportingDevice = new NullDevice()) {
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) throw new SimError('BAD_CONFIG', `SlowDevice: latency must be a finite number of ms >= 0, got ${ms}`, { field: 'latencyMs', value: ms });
    checkInner('SlowDevice', inner);
  }
  get order(): number | undefined { return this.inner.order; }
  get capacity(): number | undefined { return this.inner.capacity; }
  report(batch: ReportBatch): number | Promise<number> {
    return this.inner.report(batch);
  }
  latencyMs(batch: ReportBatch): number {
    return this.ms + (this.inner.latencyMs ? this.inner.latencyMs(batch) : 0);
  }
}
