// The host side of each guest page: resident on the host or not, and whether the host discarded it after a
// report. One state byte per host page (4 KiB, or 2 MiB when guest RAM is THP-backed), kept on the
// descriptor of the host page's first pfn.
import { HOST_RESIDENT, HOST_DISCARDED } from './layout';
import { getHost, setHost } from './page';
import { hostShift, hostPfnMask, maxPfn, addRss, addRefault, addDiscarded } from './state';

/**
 * hostTouch for an allocated block (aligned, 2^order pages): inline, as a block no bigger than a host page lies
 * inside one, and that host page is most often resident already.
 */
@inline export function hostTouchBlock(pfn: u32, pages: u32): void {
  // pages - 1 <= ~mask: the block is no bigger than a host page
  if (pages - 1 <= ~hostPfnMask && (getHost(pfn & hostPfnMask) & HOST_RESIDENT) != 0) return;
  hostTouch(pfn, pages);
}

/** The guest touches [pfn, pfn + n): every host page not resident faults in; one discarded before is a refault. */
export function hostTouch(pfn: u32, n: u32): u32 {
  const hs = hostShift;
  let hp = pfn >> hs;
  const last = (pfn + n - 1) >> hs;
  let refaulted: u32 = 0;
  for (; hp <= last; hp++) {
    const p = hp << hs;
    const h = getHost(p);
    if ((h & HOST_RESIDENT) != 0) continue;
    setHost(p, (h | HOST_RESIDENT) & ~HOST_DISCARDED);
    addRss(1 << hs);
    if ((h & HOST_DISCARDED) != 0) {
      addRefault(<u32>1 << hs);
      refaulted++;
    }
  }
  return refaulted;
}

/**
 * The host discards [pfn, pfn + n). With 2 MiB backing only whole host pages inside the range go (QEMU drops
 * ranges that are not aligned to its backing page size). Returns pages no longer resident.
 */
export function hostDiscard(pfn: u32, n: u32): u32 {
  const hs = hostShift;
  const size: u32 = 1 << hs;
  const first = (pfn + size - 1) >> hs;
  const end = (pfn + n) >> hs;
  let dropped: u32 = 0;
  for (let hp = first; hp < end; hp++) {
    const p = hp << hs;
    if (p >= maxPfn) break;
    const h = getHost(p);
    if ((h & HOST_RESIDENT) == 0) continue;
    setHost(p, (h & ~HOST_RESIDENT) | HOST_DISCARDED);
    dropped += size;
  }
  if (dropped) {
    addRss(-<i32>dropped);
    addDiscarded(dropped);
  }
  return dropped;
}

/** Is the host page holding pfn resident? */
export function hostResident(pfn: u32): bool {
  return (getHost((pfn >> hostShift) << hostShift) & HOST_RESIDENT) != 0;
}
