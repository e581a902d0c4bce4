// Policy shorthands ("none", "linux-6.1", "hinting"...) shared by scenario files and `prsim compare --policies`,
// and the label a policy gets in tables, CSV columns and plots.
import { PROFILE_NAMES } from '../core/profiles.js';
import type { ProfileName } from '../core/types.js';

/** Every shorthand a scenario or --policies accepts: none, hinting, and one per kernel profile. */
export const POLICY_SHORTHANDS: readonly string[] = ['none', ...PROFILE_NAMES, 'hinting'];

/** The four policies `prsim compare` and the default scenario put side by side. */
export const DEFAULT_COMPARE = ['none', 'linux-5.7', 'linux-6.1', 'hinting'] as const;

/**
 * A shorthand string becomes the policy object it stands for; anything else is returned untouched so the schema
 * reports it (with the value) instead of this function guessing.
 */
export function expandPolicyShorthand(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value === 'none' || value === 'hinting') return { kind: value };
  if ((PROFILE_NAMES as readonly string[]).includes(value)) return { kind: 'reporting', profile: value };
  return value;
}

interface LabelInput {
  kind: 'none' | 'reporting' | 'hinting';
  name?: string | undefined;
  profile?: ProfileName | undefined;
  order?: number | undefined;
  capacity?: number | undefined;
  use?: 'discard' | 'migration' | undefined;
  minOrder?: number | undefined;
}

/**
 * What a policy is called: its own `name`, else the kernel profile for reporting (with the knobs that differ
 * from the defaults, so two reporting columns of one profile stay apart), `none`, or `hinting`.
 */
export function policyLabel(p: LabelInput, guestProfile: ProfileName = 'linux-6.1'): string {
  if (p.name) return p.name;
  if (p.kind === 'none') return 'none';
  if (p.kind === 'hinting') {
    const knobs = [p.use === 'migration' ? 'migration' : '', p.minOrder !== undefined ? `order=${p.minOrder}` : ''];
    return ['hinting', ...knobs.filter(Boolean)].join(' ');
  }
  const knobs = [p.order !== undefined ? `order=${p.order}` : '', p.capacity !== undefined ? `cap=${p.capacity}` : ''];
  return [p.profile ?? guestProfile, ...knobs.filter(Boolean)].join(' ');
}
