// Zone accessors and the per-zone free counts.
import {
  ZONES_START, ZONE_SIZE, ZONE_START_PFN, ZONE_END_PFN, ZONE_WMARK_MIN, ZONE_WMARK_LOW, ZONE_NR_FREE_PAGES,
  ZONE_PCP_HIGH, ZONE_PCP_BATCH, ZONE_LOWMEM_RESERVE, ZONE_PRESENT, ZONE_MANAGED, ZONE_WMARK_HIGH,
} from './layout';

@inline export function zoneAddr(zone: u32): usize { return <usize>ZONES_START + <usize>(zone * ZONE_SIZE); }
@inline export function zoneStartPfn(zone: u32): u32 { return load<u32>(zoneAddr(zone), ZONE_START_PFN); }
@inline export function zoneEndPfn(zone: u32): u32 { return load<u32>(zoneAddr(zone), ZONE_END_PFN); }
@inline export function zonePresent(zone: u32): u32 { return load<u32>(zoneAddr(zone), ZONE_PRESENT); }
@inline export function zoneManaged(zone: u32): u32 { return load<u32>(zoneAddr(zone), ZONE_MANAGED); }
@inline export function wmarkMin(zone: u32): i32 { return load<i32>(zoneAddr(zone), ZONE_WMARK_MIN); }
@inline export function wmarkLow(zone: u32): i32 { return load<i32>(zoneAddr(zone), ZONE_WMARK_LOW); }
@inline export function wmarkHigh(zone: u32): i32 { return load<i32>(zoneAddr(zone), ZONE_WMARK_HIGH); }
@inline export function zoneFreePages(zone: u32): i32 { return load<i32>(zoneAddr(zone), ZONE_NR_FREE_PAGES); }
@inline export function zoneAddFreePages(zone: u32, delta: i32): void {
  const a = zoneAddr(zone);
  store<i32>(a, load<i32>(a, ZONE_NR_FREE_PAGES) + delta, ZONE_NR_FREE_PAGES);
}
@inline export function pcpHigh(zone: u32): i32 { return load<i32>(zoneAddr(zone), ZONE_PCP_HIGH); }
@inline export function pcpBatch(zone: u32): i32 { return load<i32>(zoneAddr(zone), ZONE_PCP_BATCH); }
@inline export function lowmemReserve(zone: u32, highest: u32): i32 {
  return load<i32>(zoneAddr(zone) + <usize>(highest << 2), ZONE_LOWMEM_RESERVE);
}

export function setZone(
  zone: u32, start: u32, end: u32, present: u32, managed: u32, min: u32, low: u32, high: u32, pcpH: u32, pcpB: u32,
): void {
  const a = zoneAddr(zone);
  store<u32>(a, start, ZONE_START_PFN);
  store<u32>(a, end, ZONE_END_PFN);
  store<u32>(a, present, ZONE_PRESENT);
  store<u32>(a, managed, ZONE_MANAGED);
  store<u32>(a, min, ZONE_WMARK_MIN);
  store<u32>(a, low, ZONE_WMARK_LOW);
  store<u32>(a, high, ZONE_WMARK_HIGH);
  store<i32>(a, 0, ZONE_NR_FREE_PAGES);
  store<u32>(a, pcpH, ZONE_PCP_HIGH);
  store<u32>(a, pcpB, ZONE_PCP_BATCH);
}
export function setLowmemReserve(zone: u32, highest: u32, pages: u32): void {
  store<u32>(zoneAddr(zone) + <usize>(highest << 2), pages, ZONE_LOWMEM_RESERVE);
}
export function setWatermarks(zone: u32, min: u32, low: u32, high: u32): void {
  const a = zoneAddr(zone);
  store<u32>(a, min, ZONE_WMARK_MIN);
  store<u32>(a, low, ZONE_WMARK_LOW);
  store<u32>(a, high, ZONE_WMARK_HIGH);
}
