// The shape of a host RSS fall after a free: its steps (time, size), the times to 50% and 90% of the fall.

export interface Staircase {
  /** RSS (KiB) just before the free starts. */
  atFree: number;
  final: number;
  /** Steps of the fall after the free: time after free_start (s) and size (KiB, positive = down). */
  steps: Array<{ t: number; kib: number }>;
  /** Time after free_start at which 50% / 90% of the fall is done. */
  t50: number;
  t90: number;
}

/**
 * Steps of a sampled RSS curve after t0: consecutive samples whose drop exceeds `minStepKib` are merged while
 * they are less than `gapS` apart.
 */
export function staircase(samples: ReadonlyArray<{ t: number; kib: number }>, t0: number, minStepKib = 16 * 1024, gapS = 0.3, untilS = Infinity): Staircase {
  const before = samples.filter((s) => s.t <= t0);
  const after = samples.filter((s) => s.t > t0 && s.t <= t0 + untilS);
  const atFree = before.length ? before[before.length - 1]!.kib : (after[0]?.kib ?? 0);
  const final = after.length ? after[after.length - 1]!.kib : atFree;
  const steps: Array<{ t: number; kib: number }> = [];
  let prev = atFree;
  let lastT = -Infinity;
  for (const s of after) {
    const d = prev - s.kib;
    if (d >= minStepKib) {
      const t = s.t - t0;
      const last = steps[steps.length - 1];
      if (last && t - lastT < gapS) last.kib += d;
      else steps.push({ t: +t.toFixed(3), kib: d });
      lastT = t;
    } else if (d > 0 && steps.length && s.t - t0 - lastT < gapS) {
      steps[steps.length - 1]!.kib += d;
      lastT = s.t - t0;
    }
    prev = s.kib;
  }
  const fall = atFree - final;
  const tAt = (frac: number) => {
    for (const s of after) if (atFree - s.kib >= frac * fall) return +(s.t - t0).toFixed(3);
    return NaN;
  };
  return { atFree, final, steps, t50: fall > 0 ? tAt(0.5) : NaN, t90: fall > 0 ? tAt(0.9) : NaN };
}
