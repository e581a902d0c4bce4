// The behaviour profiles are data: each knob selects a rule in the one engine.
import type { ProfileName } from './types.js';
import { SimError } from './errors.js';

/** The reporting knobs a user can set; each exists only from the kernel that added it on. */
export type ReportingKnob = 'order' | 'capacity' | 'delayMs';

export interface Profile {
  name: ProfileName;
  /** Report batch capacity: PAGE_REPORTING_CAPACITY (32), fixed before linux-next; there the device's. */
  capacity: number;
  /** Delay before a pass, ms: 2*HZ, fixed before linux-next; there page_reporting_delay_ms. */
  delayMs: number;
  /** Where a putback of a reported (isolated) block goes: 'likely' (5.7 buddy_merge_likely) or 'tail'. */
  putbackPlacement: 'likely' | 'tail';
  /** move_to_free_list links at the head (5.7) or the tail (6.1+). */
  moveToTail: boolean;
  /** Boot frees (__free_pages_core) to the tail (6.1+) or by the likely rule (5.7). */
  bootToTail: boolean;
  /** Orders per-cpu lists take. */
  pcpOrders: number[];
  /** 6.1 free_factor doubling of bulk frees and free_high; 5.7 has neither. */
  pcpFreeFactor: boolean;
  /** Merge stops at a pageblock boundary: 5.7 only for ISOLATE, 6.1 for any unmergeable type. */
  mergeStop: 'isolate' | 'unmergeable';
  /**
   * How register() picks the reporting order: 5.7 has no parameter (pageblock order); 6.1 overwrites the
   * parameter on every register with the device's order or the pageblock order; linux-next keeps a parameter
   * once set (by the user or by the first register) and takes a device order of 0 as a real order.
   */
  registerOrder: 'pageblock' | 'device-or-pageblock-overwrites' | 'param-device-pageblock';
  /** Which knobs this kernel has (a knob it lacks is refused, never silently ignored). */
  knobs: Record<ReportingKnob, boolean>;
  /**
   * Highest page_reporting_order a write accepts. 6.1's is a plain uint module parameter: any value, and one of
   * MAX_ORDER (11) or more reports nothing, so 11 stands for all of them. linux-next checks 0..MAX_PAGE_ORDER.
   */
  orderWriteMax: number;
}

export const PROFILES: Record<ProfileName, Profile> = {
  'linux-5.7': {
    name: 'linux-5.7',
    capacity: 32,
    delayMs: 2000,
    putbackPlacement: 'likely',
    moveToTail: false,
    bootToTail: false,
    pcpOrders: [0],
    pcpFreeFactor: false,
    mergeStop: 'isolate',
    registerOrder: 'pageblock',
    knobs: { order: false, capacity: false, delayMs: false },
    orderWriteMax: -1,
  },
  'linux-6.1': {
    name: 'linux-6.1',
    capacity: 32,
    delayMs: 2000,
    putbackPlacement: 'tail',
    moveToTail: true,
    bootToTail: true,
    pcpOrders: [0, 1, 2, 3, 9],
    pcpFreeFactor: true,
    mergeStop: 'unmergeable',
    registerOrder: 'device-or-pageblock-overwrites',
    knobs: { order: true, capacity: false, delayMs: false },
    orderWriteMax: 11,
  },
  'linux-next': {
    name: 'linux-next',
    capacity: 32,
    delayMs: 2000,
    putbackPlacement: 'tail',
    moveToTail: true,
    bootToTail: true,
    pcpOrders: [0, 1, 2, 3, 9],
    pcpFreeFactor: true,
    mergeStop: 'unmergeable',
    registerOrder: 'param-device-pageblock',
    knobs: { order: true, capacity: true, delayMs: true },
    orderWriteMax: 10,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function getProfile(name: string): Profile {
  const p = Object.hasOwn(PROFILES, name) ? (PROFILES as Record<string, Profile>)[name] : undefined;
  if (!p) throw new SimError('BAD_CONFIG', `unknown profile '${String(name)}' (expected one of ${PROFILE_NAMES.join(', ')})`, { field: 'profile', value: name });
  return p;
}

/** What each knob is called in the kernel, which kernel added it, and what a kernel without it does. */
const KNOB_ORIGIN: Record<ReportingKnob, { kernelName: string; addedIn: string; without: string }> = {
  order: { kernelName: 'page_reporting_order', addedIn: 'Linux 5.14', without: 'reports at pageblock order 9' },
  capacity: { kernelName: 'per-device report capacity', addedIn: 'linux-next', without: 'reports batches of up to 32 (PAGE_REPORTING_CAPACITY)' },
  delayMs: { kernelName: 'page_reporting_delay_ms', addedIn: 'linux-next', without: 'starts a pass 2 s (2*HZ) after a request' },
};

/** Why `profile` refuses `knob` (naming the kernel that added it), or null when the kernel has it. */
export function knobRefusal(profile: Profile, knob: ReportingKnob): string | null {
  if (profile.knobs[knob]) return null;
  const k = KNOB_ORIGIN[knob];
  return `${profile.name} has no ${k.kernelName} (added in ${k.addedIn}): it always ${k.without}`;
}

/** Why `profile` refuses a page_reporting_order of `order`, or null when a write of it is accepted. */
export function orderRefusal(profile: Profile, order: number): string | null {
  const no = knobRefusal(profile, 'order');
  if (no) return no;
  if (Number.isInteger(order) && order >= 0 && order <= profile.orderWriteMax) return null;
  return profile.orderWriteMax === 10
    ? `${profile.name}'s page_reporting_order takes 0..10 (MAX_PAGE_ORDER; a write of anything else is refused with -EINVAL)`
    : `${profile.name}'s page_reporting_order takes 0..11 (11 stands for any value >= MAX_ORDER: nothing is reported)`;
}
