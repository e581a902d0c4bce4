// Free page hinting, the older design (hinting-v13, Wei Wang 2017): walk_free_mem_block hands out free blocks
// one at a time WITHOUT isolating them. The host then either skips those pages during live migration or, used
// for overcommit, discards them: a block reused before the host acted would lose data, and we count that.
//
// Between two hints v13 drops the zone lock, so the block under its cursor may leave its list. v13 then looks
// only at that page: a free block of another order sends the walk back to the list head, and it goes on from
// there, handing blocks out again (counted as duplicates); any other page has a stale list link that v13
// follows into memory the simulator does not model (a poisoned or reused pointer): that is counted as a hazard
// and the list is left there.
import type { Clock } from '../clock/clock.js';
import { SimError } from '../core/errors.js';
import { MIGRATE_TYPES, MAX_ORDER_INCLUSIVE } from '../core/types.js';
import { HINT_DONE, HINT_HAZARD, type WasmGuest } from '../core/guest.js';

export type HintUse = 'discard' | 'migration';

export interface HintingOptions {
  use: HintUse;
  /** Smallest order handed out (default 9). */
  minOrder?: number;
  /** Interval between walks, ms (the host asks periodically; default 2000). */
  intervalMs?: number;
  /** Time one hint takes (the zone lock is dropped between hints, so the guest runs on meanwhile), ms. Default
   *  0.01 (10 us a virtqueue round trip). 0 walks a whole pass at one instant. */
  stepMs?: number;
  /** Time between a hint and the host acting on it, ms (default 50). */
  hostDelayMs?: number;
  /** Migration: how long the migration takes after the walk, ms (default 1000). */
  migrationMs?: number;
  /** Backing page size of the host in pages (discard drops only whole host pages): 1 or 512. */
  hostPages?: number;
}

export interface HintingMetrics {
  walks: number;
  blocksHinted: number;
  pagesHinted: number;
  /** The same block handed out more than once in one walk of a list (after a restart from its head). */
  duplicateHints: number;
  /** The cursor's block became a free block of another order: v13 went back to the list head. */
  cursorRestarts: number;
  /**
   * The cursor's page was no longer a free block of the list (allocated, on a per-cpu list, merged into a
   * larger block, moved to another migratetype's list): v13 would follow its stale list link, whose target the
   * simulator cannot know (a garbage hint or a fault in the real guest). The walk leaves that list.
   */
  staleCursorHazards: number;
  /** discard: pages the host discarded while the guest was already using them again (lost data). */
  lostDataPages: number;
  lostDataEvents: number;
  pagesDiscarded: number;
  /** migration: hinted pages skipped by the migration, and pages dirtied after their hint (sent anyway). */
  pagesSkipped: number;
  pagesDirtiedAfterHint: number;
}

export class FreePageHinting {
  readonly metrics: HintingMetrics = {
    walks: 0, blocksHinted: 0, pagesHinted: 0, duplicateHints: 0, cursorRestarts: 0, staleCursorHazards: 0, lostDataPages: 0,
    lostDataEvents: 0, pagesDiscarded: 0, pagesSkipped: 0, pagesDirtiedAfterHint: 0,
  };
  readonly minOrder: number;
  readonly intervalMs: number;
  readonly hostDelayMs: number;
  readonly migrationMs: number;
  readonly hostPages: number;
  private timer: number | null = null;
  private running = false;

  constructor(readonly guest: WasmGuest, readonly clock: Clock, readonly opts: HintingOptions) {
    this.minOrder = opts.minOrder ?? 9;
    this.intervalMs = opts.intervalMs ?? 2000;
    this.hostDelayMs = opts.hostDelayMs ?? 50;
    this.migrationMs = opts.migrationMs ?? 1000;
    this.hostPages = opts.hostPages ?? 1;
    // Checked here: a zero interval would walk forever at one instant, NaN would break the clock's order.
    const bad = (field: string, value: unknown, want: string) => {
      throw new SimError('BAD_CONFIG', `hinting ${field} must be ${want}, got ${String(value)}`, { field, value });
    };
    if (opts.use !== 'discard' && opts.use !== 'migration') bad('use', opts.use, "'discard' or 'migration'");
    if (!(Number.isInteger(this.minOrder) && this.minOrder >= 0 && this.minOrder <= MAX_ORDER_INCLUSIVE)) bad('minOrder', this.minOrder, `an integer 0..${MAX_ORDER_INCLUSIVE}`);
    if (!(Number.isFinite(this.intervalMs) && this.intervalMs > 0)) bad('intervalMs', this.intervalMs, 'a finite number > 0');
    for (const [field, v] of [['stepMs', opts.stepMs ?? 0], ['hostDelayMs', this.hostDelayMs], ['migrationMs', this.migrationMs]] as const) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) bad(field, v, 'a finite number >= 0');
    }
    if (this.hostPages !== 1 && this.hostPages !== 512) bad('hostPages', this.hostPages, '1 or 512');
  }

  /** Start periodic walks (the first one interval from now). */
  start(): void {
    this.running = true;
    this.timer = this.clock.schedule(this.clock.now() + this.intervalMs, () => this.tick());
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clock.cancel(this.timer);
    this.timer = null;
  }

  private tick(): void {
    this.timer = null;
    if (!this.running) return;
    const steps = this.walkSteps();
    const stepMs = this.opts.stepMs ?? 0.01;
    // Walks start every interval, however long one takes (a longer walk starts the next one at its end).
    const nextWalkAt = this.clock.now() + this.intervalMs;
    const next = () => {
      this.timer = null;
      if (!this.running) return;
      if (stepMs <= 0) {
        while (!steps.next().done);
      } else if (!steps.next().done) {
        this.timer = this.clock.schedule(this.clock.now() + stepMs, next);
        return;
      }
      this.timer = this.clock.schedule(nextWalkAt, () => this.tick());
    };
    next();
  }

  /**
   * One walk_free_mem_block: zones ascending, orders 10 down to minOrder, every migratetype, each list from its
   * head. Returns the blocks handed out, as [pfn, order].
   */
  walk(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const hint of this.walkSteps()) out.push(hint);
    return out;
  }

  /** The walk one hint at a time: the periodic walk resumes it one step later, so the guest runs in between. */
  *walkSteps(): Generator<[number, number]> {
    this.metrics.walks++;
    const g = this.guest;
    for (let z = 0; z < g.config.zones.length; z++) {
      for (let order = MAX_ORDER_INCLUSIVE; order >= this.minOrder; order--) {
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
          const seen = new Set<number>();
          let cursor = -1;
          for (;;) {
            const restart = cursor >= 0 && this.isFreeHeadOfOtherOrder(cursor, order);
            const next = g.hintNext(z, order, mt, cursor);
            if (next === HINT_DONE) break;
            if (next === HINT_HAZARD) {
              this.metrics.staleCursorHazards++;
              break;
            }
            if (restart) this.metrics.cursorRestarts++;
            if (seen.has(next)) this.metrics.duplicateHints++;
            seen.add(next);
            cursor = next;
            this.visit(next, order);
            yield [next, order];
          }
        }
      }
    }
  }

  private isFreeHeadOfOtherOrder(pfn: number, order: number): boolean {
    const s = this.guest.pfnState(pfn);
    return s.kind === 'free' && s.isHead && s.order !== order;
  }

  private visit(pfn: number, order: number): void {
    const pages = 2 ** order;
    this.metrics.blocksHinted++;
    this.metrics.pagesHinted += pages;
    const hintedAt = this.clock.now();
    if (this.opts.use === 'discard') {
      this.clock.schedule(hintedAt + this.hostDelayMs, () => {
        // The host acts on a stale hint: whatever the guest put there since is gone. Only pages in use hold
        // data: a page back on a per-cpu list is free (its next user gets it zero-filled, a refault, no loss).
        if (!this.guest.rangeFree(pfn, pages)) {
          const lost = this.allocatedPagesIn(pfn, pages, false);
          if (lost > 0) {
            this.metrics.lostDataEvents++;
            this.metrics.lostDataPages += lost;
          }
        }
        if (pages >= this.hostPages) this.metrics.pagesDiscarded += this.guest.discard(pfn, pages);
      });
    } else {
      this.clock.schedule(hintedAt + this.migrationMs, () => {
        // At the end of migration, hinted pages still free were never needed; reused ones were dirtied and sent.
        const used = this.allocatedPagesIn(pfn, pages);
        this.metrics.pagesDirtiedAfterHint += used;
        this.metrics.pagesSkipped += pages - used;
      });
    }
  }

  /** Pages of [pfn, pfn + pages) allocated (and, with `withPcp`, on per-cpu lists) right now. */
  private allocatedPagesIn(pfn: number, pages: number, withPcp = true): number {
    let n = 0;
    let p = pfn;
    const end = pfn + pages;
    while (p < end) {
      const s = this.guest.pfnState(p);
      const size = s.head >= 0 ? 2 ** s.order - (p - s.head) : 1;
      if (s.kind === 'allocated' || (withPcp && s.kind === 'pcp')) n += Math.min(size, end - p);
      p += Math.max(1, Math.min(size, end - p));
    }
    return n;
  }
}
