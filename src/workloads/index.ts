// Workload specs as data, and the factory that turns a spec into a process.
import { Memhog, type MemhogSpec } from './memhog.js';
import { Churn, type ChurnSpec } from './churn.js';
import { Fragment, type FragmentSpec } from './fragment.js';
import { PageCache, type PageCacheSpec } from './pagecache.js';
import { Burst, type BurstSpec } from './burst.js';
import { Writes, type WritesSpec } from './writes.js';
import type { Workload } from './workload.js';
import { WorkloadSchema } from '../schema/schema.js';
import { ScenarioError, issuesFromZod } from '../schema/errors.js';

export type WorkloadSpec = MemhogSpec | ChurnSpec | FragmentSpec | PageCacheSpec | BurstSpec | WritesSpec;
export type { Workload, WorkloadContext } from './workload.js';
export { Memhog, Churn, Fragment, PageCache, Burst, Writes };

/** A process from its spec, checked with the scenario files' workload schema (a zero tickMs would never end). */
export function createWorkload(spec: WorkloadSpec): Workload {
  const r = WorkloadSchema.safeParse(spec);
  if (!r.success) throw new ScenarioError('workload', issuesFromZod(r.error, spec));
  switch (spec.kind) {
    case 'memhog': return new Memhog(spec);
    case 'churn': return new Churn(spec);
    case 'fragment': return new Fragment(spec);
    case 'pagecache': return new PageCache(spec);
    case 'burst': return new Burst(spec);
    case 'writes': return new Writes(spec);
  }
}
