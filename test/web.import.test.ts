// The page's importer of dropped files (src/web/import.ts): it finds the snapshot among the files whatever the
// user named them, as long as the kind is in the name, and builds the guest `prsim import --format state` builds.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importFiles, type DroppedFile } from '../src/web/import.js';
import { REAL } from './helpers/shared.js';

const E2 = join(REAL, 'E2_memhog512_r1', 'guest');
const E5 = join(REAL, 'E5_trace256', 'guest');
const file = (dir: string, name: string, as = name): DroppedFile => ({ path: as, bytes: new Uint8Array(readFileSync(join(dir, name))) });

describe.skipIf(!existsSync(E2) || !existsSync(E5))('dropped files with the user\'s own names', () => {
  it('a tagged buddyinfo with an untagged zoneinfo is one snapshot (guest.buddyinfo + zoneinfo)', () => {
    const canonical = importFiles(['pre.buddyinfo', 'pre.pagetypeinfo', 'pre.zoneinfo'].map((n) => file(E2, n)));
    const own = importFiles([file(E2, 'pre.buddyinfo', 'guest.buddyinfo'), file(E2, 'pre.pagetypeinfo', 'guest.pagetypeinfo'), file(E2, 'pre.zoneinfo', 'zoneinfo')]);
    expect(own.buddyinfo).toBe(canonical.buddyinfo);
    expect(own.description).toBe('guest.buddyinfo + guest.pagetypeinfo with zoneinfo');
  });

  it('kpageflags.bin.gz, kpageflags.gz and kpageflags.bin are untagged dumps, not snapshots named bin or gz', () => {
    const canonical = importFiles([file(E5, 'kpageflags.pre.bin.gz'), file(E5, 'pre.zoneinfo'), file(E5, 'dmesg.txt')]);
    expect(canonical.source).toBe('kpageflags');
    for (const name of ['kpageflags.bin.gz', 'kpageflags.gz', 'kpageflags']) {
      const own = importFiles([file(E5, 'kpageflags.pre.bin.gz', name), file(E5, 'pre.zoneinfo', 'zoneinfo'), file(E5, 'dmesg.txt')]);
      expect(own.source, name).toBe('kpageflags');
      expect(own.buddyinfo, name).toBe(canonical.buddyinfo);
    }
  });
});
