// The shape of a host RSS fall after a free: steps (time after the free, size), t50/t90 and the final RSS.

export interface Step { tAfterFreeS: number; dropKib: number }
export interface Staircase { steps: Step[]; t50S: number | null; t90S: number | null; startKib: number; finalKib: number }

/** Steps are drops of at least `minStepKib`; drops closer than `mergeS` join one step. */
export function staircase(series: Array<{ t: number; kib: number }>, freeStartS: number, minStepKib = 2048, mergeS = 0.25): Staircase {
  const after = series.filter((p) => p.t >= freeStartS);
  const before = series.filter((p) => p.t < freeStartS);
  const startKib = before.length ? before[before.length - 1]!.kib : after[0]?.kib ?? 0;
  const finalKib = series.length ? series[series.length - 1]!.kib : 0;
  const steps: Step[] = [];
  let prev = startKib;
  let lastT = -Infinity;
  for (const p of after) {
    const drop = prev - p.kib;
    if (drop >= minStepKib) {
      const t = p.t - freeStartS;
      if (steps.length && t - lastT <= mergeS) steps[steps.length - 1]!.dropKib += drop;
      else steps.push({ tAfterFreeS: t, dropKib: drop });
      lastT = t;
    }
    prev = p.kib;
  }
  const fall = startKib - finalKib;
  const when = (frac: number) => {
    if (fall <= 0) return null;
    const p = after.find((q) => startKib - q.kib >= frac * fall);
    return p ? p.t - freeStartS : null;
  };
  return { steps, t50S: when(0.5), t90S: when(0.9), startKib, finalKib };
}
