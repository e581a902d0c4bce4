// Each guest's end state as /proc/buddyinfo text, byte for byte what the kernel prints, so it diffs against a
// real guest's file. Several guests are separated by a blank line (parseBuddyinfo skips blank lines, so the whole
// output still parses).
import { buddyinfoRows, formatBuddyinfo } from '../importers/buddyinfo.js';
import type { GuestResult } from '../sim/engine.js';

export function guestBuddyinfo(g: GuestResult): string {
  return formatBuddyinfo(buddyinfoRows(g.zones.map((name) => ({ name })), g.buddyinfo));
}

export function endStateBuddyinfo(guests: GuestResult[]): string {
  return guests.map(guestBuddyinfo).join('\n');
}
