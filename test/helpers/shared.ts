// The real-kernel runs beside the checkout (../shared/real-kernel). Tests that need them skip, naming what is
// missing, where the folder is not there. PRSIM_REAL_KERNEL points elsewhere (an empty path checks that every
// such test skips rather than fails).
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const override = process.env['PRSIM_REAL_KERNEL'];
export const REAL = override !== undefined ? `${resolve(override)}/` : fileURLToPath(new URL('../../../shared/real-kernel/', import.meta.url));
export const HAVE_REAL = existsSync(REAL);
/** Run folders (E1_..., E2_...), or [] without the folder. */
export const REAL_RUNS: string[] = HAVE_REAL ? readdirSync(REAL).filter((d) => /^E\d/.test(d)).sort() : [];
export const MISSING_REAL = `needs the real-kernel runs in ${REAL}`;

/** Every named run folder (or, with none named, the folder of runs) is there. */
export function haveReal(...runs: string[]): boolean {
  return HAVE_REAL && runs.every((r) => existsSync(REAL + r));
}

/** A test title that says what it needs when that is missing (vitest prints it beside "skipped"). */
export function needsReal(title: string, ...runs: string[]): string {
  if (haveReal(...runs)) return title;
  const missing = HAVE_REAL ? runs.filter((r) => !existsSync(REAL + r)).map((r) => REAL + r).join(', ') : REAL;
  return `${title} (skipped: needs the real-kernel runs in ${missing})`;
}
