// The behaviour profiles are data: each knob selects a rule in the one engine.
import type { ProfileName } from './types.js';
import { SimError } from './errors.js';

export interface Profile {
  name: ProfileName;
  /** Default report batch capacity (linux-next: the device's capacity, 0 or > 32 means 32). */
  capacity: number;
  /** Delay before a pass, ms. */
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
  /** How register() picks the reporting order. */
  registerOrder: 'pageblock' | 'device-or-pageblock-overwrites' | 'param-device-pageblock';
  /** linux-next honours the device's capacity and a configurable delay. */
  deviceCapacity: boolean;
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
    deviceCapacity: false,
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
    deviceCapacity: false,
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
    deviceCapacity: true,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function getProfile(name: string): Profile {
  const p = Object.hasOwn(PROFILES, name) ? (PROFILES as Record<string, Profile>)[name] : undefined;
  if (!p) throw new SimError('BAD_CONFIG', `unknown profile '${String(name)}' (expected one of ${PROFILE_NAMES.join(', ')})`, { field: 'profile', value: name });
  return p;
}
