// /proc text of a simulated guest, byte-for-byte in the kernel's formats (the formatters live with the parsers).
import { buddyinfoRows, formatBuddyinfo } from './buddyinfo.js';
import { formatPagetypeinfoFree, pagetypeFreeRows } from './pagetypeinfo.js';
import type { Allocator } from '../core/types.js';

/** Exactly /proc/buddyinfo. */
export function buddyinfoText(a: Allocator): string {
  return formatBuddyinfo(buddyinfoRows(a.config.zones, a.buddyinfo()));
}

/** The free-count part of /proc/pagetypeinfo. */
export function pagetypeinfoFreeText(a: Allocator): string {
  return formatPagetypeinfoFree(pagetypeFreeRows(a.config.zones, a.pagetypeinfo()));
}
