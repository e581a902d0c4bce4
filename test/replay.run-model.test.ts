// What a recorded run did, read from its own files (src/replay/run-model.ts), and replays of run folders that
// differ from the shared ones the ways unseen runs do: one cpu or many, THP named only on the kernel command
// line, an empty last sample, no pre snapshot, several cycles.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRun } from '../src/importers/run-folder.js';
import { describeRun } from '../src/replay/run-model.js';
import { replayRun, type WorkloadRunDetails } from '../src/replay/run-replay.js';
import { REAL, HAVE_REAL, MISSING_REAL } from './helpers/shared.js';

describe.skipIf(!HAVE_REAL)(`the run model of the shared runs (${HAVE_REAL ? 'E1..E7' : MISSING_REAL})`, () => {
  it('E7: four cycles at their recorded times, each freed on cpu 0 and flushed by the next process', () => {
    const m = describeRun(loadRun(REAL + 'E7_cycles256x4'));
    expect(m.kind).toBe('memhog');
    expect(m.cycles.length).toBe(4);
    for (const c of m.cycles) {
      expect(c.mib).toBe(256);
      expect(c.allocStart < c.allocDone && c.allocDone < c.freeStart && c.freeStart < c.freeDone).toBe(true);
      expect([c.cpu, c.flushedAfter, c.thp]).toEqual([0, true, 'never']);
    }
    expect(m.cycles[1]!.allocStart).toBeGreaterThan(m.cycles[0]!.freeDone);
  });

  it('E2t: THP faults (MADV_HUGEPAGE); nothing flushed the freeing cpu\'s lists after the free', () => {
    const m = describeRun(loadRun(REAL + 'E2t_memhog512_thp'));
    expect(m.cycles.map((c) => [c.thp, c.cpu, c.flushedAfter])).toEqual([['madvise', 0, false]]);
    expect(m.guestThp).toBe(true);
  });

  it('E3: the order written through sysfs after the balloon registered; E1: an idle boot; cpus and memory from meta.json', () => {
    const e3 = describeRun(loadRun(REAL + 'E3_order0_sysfs'));
    expect(e3.orderWrites).toEqual([{ t: expect.any(Number), order: 0 }]);
    expect(e3.orderWrites[0]!.t).toBeGreaterThan(e3.register!);
    expect(e3.effectiveOrder).toBe(0);
    const e1 = describeRun(loadRun(REAL + 'E1_idle_boot'));
    expect([e1.kind, e1.cycles.length, e1.cpus, e1.memMiB]).toEqual(['idle', 0, 2, 1024]);
  });

  it('the recorder\'s own files: the snapshots and the kpageflags dumps it wrote, in pages', () => {
    const m = describeRun(loadRun(REAL + 'E4_frag512'));
    const dumps = m.writes.filter((w) => w.what.startsWith('kpageflags'));
    expect(dumps.map((w) => w.pages)).toEqual([513, 513]); // 2 MiB dump + its zoneinfo, each
    expect(m.writes.find((w) => w.what === 'held snapshot')!.pages).toBe(5);
  });
});

describe.skipIf(!HAVE_REAL)('replays of run folders unlike the shared ones', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'prsim-runs-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const variant = (from: string, name: string, edit: (dir: string) => void) => {
    const dir = join(tmp, name);
    cpSync(REAL + from, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const editJson = (file: string, f: (j: Record<string, unknown>) => void) => {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    f(j);
    writeFileSync(file, JSON.stringify(j));
  };
  const editText = (file: string, f: (t: string) => string) => writeFileSync(file, f(readFileSync(file, 'utf8')));

  it('a 1-cpu guest: every process runs on cpu 0 (the recorded cpu 1 does not exist), no crash', () => {
    const dir = variant('E2_memhog512_r1', 'E2_1cpu', (d) => {
      editJson(join(d, 'meta.json'), (j) => (j['smp'] = 1));
      editText(join(d, 'serial.log'), (t) => t.replace('@I nproc 2', '@I nproc 1'));
    });
    const c = replayRun(loadRun(dir));
    const d = c.details as { workload: { cpus: number } };
    expect(d.workload.cpus).toBe(1);
    expect(c.warnings.join('\n')).toMatch(/cpu 1 is not a cpu of this 1-cpu guest; cpu 0 instead/);
    expect(c.sim.afterFree!.passes).toBeGreaterThan(0);
  });

  it('a 64-cpu guest: per-cpu lists for all of them, the recorded counts on the cpus zoneinfo names', () => {
    const dir = variant('E2_memhog512_r1', 'E2_64cpu', (d) => editJson(join(d, 'meta.json'), (j) => (j['smp'] = 64)));
    const c = replayRun(loadRun(dir));
    expect((c.details as { workload: { cpus: number } }).workload.cpus).toBe(64);
    expect(c.sim.afterFree!.blocks).toBeGreaterThan(100);
  });

  it('a recording whose last rss.csv row is empty replays, and says what it skipped', () => {
    const dir = variant('E2_memhog512_r1', 'E2_cut', (d) => appendFileSync(join(d, 'rss.csv'), '60.5,,,\n'));
    const c = replayRun(loadRun(dir));
    expect(c.warnings.some((w) => /rss\.csv:\d+: empty sample skipped/.test(w))).toBe(true);
    expect(c.real.afterFree!.t90).toBe(replayRun(loadRun(REAL + 'E2_memhog512_r1')).real.afterFree!.t90);
  });

  it('THP named only on the kernel command line (THP=huge) is read from there', () => {
    const dir = variant('E2t_memhog512_thp', 'E2t_cmdline', (d) => editText(join(d, 'serial.log'), (t) => t.replace(/ thp=huge/g, '')));
    const run = loadRun(dir);
    expect(describeRun(run).cycles[0]!.thp).toBe('madvise');
    const c = replayRun(run);
    expect((c.details as unknown as WorkloadRunDetails).workload!.metrics.workloads.thpFaults).toBe(256);
  });

  it('without pre.zoneinfo the zones come from another snapshot but not its per-cpu counts (the end\'s hold the workload\'s folios)', () => {
    const dir = variant('E2t_memhog512_thp', 'E2t_nozoneinfo', (d) => rmSync(join(d, 'guest', 'pre.zoneinfo')));
    const c = replayRun(loadRun(dir));
    expect(c.warnings.join('\n')).toMatch(/no guest\/pre\.zoneinfo; zones from \w+\.zoneinfo, per-cpu lists start empty/);
    // cpu 1 runs nothing of the workload: its lists stay as they started, empty, not the later snapshot's count.
    const held = (c.details as unknown as WorkloadRunDetails).workload!.snapshots.find((s) => s.tag === 'held')!;
    expect(held.sim.pcp['DMA32']![1]).toBe(0);
    // The THP folios left on cpu 0's list after the free are still not reported: the real passes and calls.
    expect([c.sim.afterFree!.passes, c.sim.afterFree!.calls]).toEqual([c.real.afterFree!.passes, c.real.afterFree!.calls]);
  });

  it('without pre.buddyinfo the workload starts from serial.log\'s @B/@P records, with a warning', () => {
    const dir = variant('E2_memhog512_r1', 'E2_nopre', (d) => rmSync(join(d, 'guest', 'pre.buddyinfo')));
    const c = replayRun(loadRun(dir));
    expect(c.warnings.join('\n')).toMatch(/no pre\.buddyinfo; the workload starts from serial\.log's records/);
    expect((c.details as { workload: { snapshot: string } }).workload.snapshot).toBe('serial.log @B/@P');
    expect(c.sim.afterFree!.passes).toBeGreaterThan(0);
  });

  it('a run with two cycles gives a window per cycle', () => {
    const dir = variant('E7_cycles256x4', 'E7_two', (d) => editText(join(d, 'serial.log'), (t) => {
      // Drop the last two cycles' markers: the run becomes two cycles and a long idle.
      const lines = t.split('\n');
      let cycles = 0;
      return lines.filter((l) => {
        if (/@T [\d.]+ alloc_start/.test(l)) cycles++;
        return !(cycles > 2 && /@T [\d.]+ (alloc_start|alloc_done|free_start|free_done)/.test(l));
      }).join('\n');
    }));
    const c = replayRun(loadRun(dir));
    expect(c.real.cycles!.length).toBe(2);
    expect(c.sim.cycles!.length).toBe(2);
  });
});
