// The host side of one guest, as QEMU's virtio-balloon free page reporting handles it: each reported range is
// discarded (MADV_DONTNEED / fallocate punch-hole) unless discarding is inhibited, the guest poisons freed pages
// with a nonzero value, or the range is smaller than the host backing page. The per-page resident/discarded
// state lives in the guest's wasm memory (see assembly/host.ts); this class holds the policy and the costs.
import { SimError } from '../core/errors.js';
import type { ReportBatch } from '../reporting/device.js';

/** What the host needs from a guest: its host-page state, kept in wasm next to the page descriptors. */
export interface HostBackedGuest {
  discard(pfn: number, pages: number): number;
  hostRssPages(): number;
  hostCounters(): { rssPages: number; refaults: number; refaultPages: number; discardedPages: number };
  readonly config: { maxPfn: number };
}

export type Backing = '4k' | 'thp';
export type DiscardInhibit = 'vfio' | 'postcopy' | 'background-snapshot';

export interface QemuHostOptions {
  /** Host backing page size of guest RAM: 4 KiB pages, or 2 MiB transparent huge pages. Default 'thp'. */
  backing?: Backing;
  /** ram_block_discard_disable(): VFIO passthrough, incoming postcopy, background snapshot. */
  inhibit?: DiscardInhibit | null;
  /** The guest's page poison value (page_poisoning with a nonzero pattern): QEMU then never discards. */
  poisonValue?: number;
  /** QEMU's own memory besides guest RAM (KiB), for process RSS figures. Default 0. */
  overheadKib?: number;
  /** Simulated time of one report: a fixed cost per call plus a cost per MiB discarded. */
  callLatencyMs?: number;
  latencyMsPerMiB?: number;
  /** Cost of zero-filling one refaulted 4 KiB page on the host (ns), for the refault cost figure. */
  refaultNsPerPage?: number;
}

export function hostShiftOf(backing: Backing): number {
  return backing === 'thp' ? 9 : 0;
}

export class QemuHost {
  readonly backing: Backing;
  readonly inhibit: DiscardInhibit | null;
  readonly poisonValue: number;
  readonly overheadKib: number;
  readonly callLatencyMs: number;
  readonly latencyMsPerMiB: number;
  readonly refaultNsPerPage: number;
  /** Ranges QEMU ignored, by reason. */
  readonly skipped = { inhibited: 0, poisoned: 0, unaligned: 0 };
  rangesDiscarded = 0;

  constructor(readonly guest: HostBackedGuest, opts: QemuHostOptions = {}) {
    this.backing = opts.backing ?? 'thp';
    if (this.backing !== '4k' && this.backing !== 'thp') {
      throw new SimError('BAD_CONFIG', `host backing must be '4k' or 'thp', got '${String(this.backing)}'`, { field: 'backing', value: this.backing });
    }
    this.inhibit = opts.inhibit ?? null;
    if (this.inhibit !== null && !['vfio', 'postcopy', 'background-snapshot'].includes(this.inhibit)) {
      throw new SimError('BAD_CONFIG', `host inhibit must be 'vfio', 'postcopy', 'background-snapshot' or null, got '${String(this.inhibit)}'`, { field: 'inhibit', value: this.inhibit });
    }
    this.poisonValue = opts.poisonValue ?? 0;
    if (!(Number.isInteger(this.poisonValue) && this.poisonValue >= 0 && this.poisonValue <= 255)) {
      throw new SimError('BAD_CONFIG', `host poisonValue must be an integer 0..255, got ${this.poisonValue}`, { field: 'poisonValue', value: this.poisonValue });
    }
    // Costs become simulated times on the clock: each a finite number >= 0.
    const cost = (field: string, v: number) => {
      if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new SimError('BAD_CONFIG', `host ${field} must be a finite number >= 0, got ${v}`, { field, value: v });
      return v;
    };
    this.overheadKib = cost('overheadKib', opts.overheadKib ?? 0);
    this.callLatencyMs = cost('callLatencyMs', opts.callLatencyMs ?? 0.1);
    this.latencyMsPerMiB = cost('latencyMsPerMiB', opts.latencyMsPerMiB ?? 0.02);
    this.refaultNsPerPage = cost('refaultNsPerPage', opts.refaultNsPerPage ?? 250);
  }

  /** virtio_balloon_handle_report: discard each range of the batch, or skip it and say why. */
  handleReport(batch: ReportBatch): void {
    const hostPages = this.backing === 'thp' ? 512 : 1;
    for (let i = 0; i < batch.length; i++) {
      const pfn = batch.entries[2 * i]!;
      const pages = 2 ** batch.entries[2 * i + 1]!;
      if (this.inhibit) this.skipped.inhibited++;
      else if (this.poisonValue !== 0) this.skipped.poisoned++;
      else if (pages < hostPages || pfn % hostPages !== 0) this.skipped.unaligned++;
      else {
        this.guest.discard(pfn, pages);
        this.rangesDiscarded++;
      }
    }
  }

  latencyMs(batch: ReportBatch): number {
    return this.callLatencyMs + (batch.pages * 4096) / 2 ** 20 * this.latencyMsPerMiB;
  }

  /** Guest RAM resident on the host, KiB. */
  ramRssKib(): number {
    return this.guest.hostRssPages() * 4;
  }

  /** The QEMU process RSS: guest RAM resident plus QEMU's own memory, KiB. */
  processRssKib(): number {
    return this.ramRssKib() + this.overheadKib;
  }

  refaults(): { refaults: number; refaultPages: number; costMs: number } {
    const c = this.guest.hostCounters();
    return { refaults: c.refaults, refaultPages: c.refaultPages, costMs: (c.refaultPages * this.refaultNsPerPage) / 1e6 };
  }
}
