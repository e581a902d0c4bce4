// W3 `memhog`: the 1 GiB guest of ../shared/real-kernel (zones and watermarks from E2's pre.zoneinfo), profile
// linux-6.1, per-cpu lists on, 2 CPUs, virtio-balloon with a THP-backed QEMU host; memhog 512 MiB at t = 10 s,
// held 3 s, run to 40 s. Also the same shape scaled to a 64 GiB guest with a 48 GiB memhog, for speed.
import { readFileSync, existsSync } from 'node:fs';
import { simulate, type SimulationResult, type SimulationSpec } from '../sim/engine.js';
import { parseZoneinfo, zoneSpecsFromZoneinfo } from '../importers/zoneinfo.js';
import type { ZoneSpec } from '../core/config.js';
import { staircase, type Staircase } from '../sim/staircase.js';

export const REAL_KERNEL = process.env.PRSIM_REAL_KERNEL ?? '../shared/real-kernel';

export function realGuestZones(run = 'E2_memhog512_r1'): ZoneSpec[] | undefined {
  const f = `${REAL_KERNEL}/${run}/guest/pre.zoneinfo`;
  if (!existsSync(f)) return undefined;
  return zoneSpecsFromZoneinfo(parseZoneinfo(readFileSync(f, 'utf8'), f));
}

export function w3Spec(zones?: ZoneSpec[]): SimulationSpec {
  return {
    durationS: 40, sampleMs: 50, seed: 1,
    guests: [{
      name: 'linux-6.1',
      guest: zones ? { profile: 'linux-6.1', zones, cpus: 2, pcp: true } : { profile: 'linux-6.1', memBytes: 2 ** 30, cpus: 2, pcp: true },
      policy: { kind: 'reporting', profile: 'linux-6.1' },
      device: { kind: 'virtio-balloon' },
      host: { backing: 'thp' },
      workloads: [{ kind: 'memhog', startS: 10, mib: 512, holdS: 3 }],
    }],
  };
}

export interface W3Result { result: SimulationResult; stairs: Staircase; freeStartS: number; simSecondsPerWallSecond: number }

export async function w3(zones = realGuestZones()): Promise<W3Result> {
  const spec = w3Spec(zones);
  const result = await simulate(spec);
  const g = result.guests[0]!;
  // memhog: 512 MiB at 400 MiB/s from t = 10 s, then 3 s of hold.
  const freeStartS = 10 + 512 / 400 + 3;
  const stairs = staircase(g.samples.map((s) => ({ t: s.t / 1000, kib: s.rssKib })), freeStartS, 2048);
  return { result, stairs, freeStartS, simSecondsPerWallSecond: spec.durationS / (result.wallMs / 1000) };
}

/** W3 scaled: a 64 GiB guest, 48 GiB memhog (allocated at 8 GiB/s, freed at 16 GiB/s), run to 60 s. */
export function w3ScaledSpec(memGiB = 64, hogGiB = 48): SimulationSpec {
  return {
    durationS: 60, sampleMs: 100, seed: 1,
    guests: [{
      guest: { profile: 'linux-6.1', memBytes: memGiB * 2 ** 30, cpus: 2, pcp: true },
      policy: { kind: 'reporting', profile: 'linux-6.1' },
      device: { kind: 'virtio-balloon' }, host: { backing: 'thp' },
      workloads: [{ kind: 'memhog', startS: 10, mib: hogGiB * 1024, rateMiBps: 8192, freeRateMiBps: 16384, holdS: 3 }],
    }],
  };
}

export async function w3Scaled(
  memGiB = 64, hogGiB = 48, run: (spec: SimulationSpec) => Promise<{ wallMs: number; pageOps: number }> = simulate,
): Promise<{ result: { wallMs: number; pageOps: number }; pageOpsPerWallSecond: number }> {
  const result = await run(w3ScaledSpec(memGiB, hogGiB));
  return { result, pageOpsPerWallSecond: result.pageOps / (result.wallMs / 1000) };
}

/**
 * One guest-minute: a 1 GiB guest (the x86 layout), 6.1 reporting to virtio-balloon on a THP-backed host, a
 * 512 MiB memhog at 10 s held 3 s, run to 60 s: the real experiment behind W3, which takes about 60 s under QEMU.
 */
export function guestMinuteSpec(): SimulationSpec {
  return {
    durationS: 60, sampleMs: 50, seed: 1,
    guests: [{
      guest: { profile: 'linux-6.1', memBytes: 2 ** 30, cpus: 2, pcp: true },
      policy: { kind: 'reporting', profile: 'linux-6.1' },
      device: { kind: 'virtio-balloon' }, host: { backing: 'thp' },
      workloads: [{ kind: 'memhog', startS: 10, mib: 512, holdS: 3 }],
    }],
  };
}
