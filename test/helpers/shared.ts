// The real-kernel runs beside the checkout (../shared/real-kernel). Tests that need them skip, naming what is
// missing, where the folder is not there.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REAL = fileURLToPath(new URL('../../../shared/real-kernel/', import.meta.url));
export const HAVE_REAL = existsSync(REAL);
/** Run folders (E1_..., E2_...), or [] without the folder. */
export const REAL_RUNS: string[] = HAVE_REAL ? readdirSync(REAL).filter((d) => /^E\d/.test(d)).sort() : [];
export const MISSING_REAL = `needs the real-kernel runs in ${REAL}`;
