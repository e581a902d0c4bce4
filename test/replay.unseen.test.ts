// Run folders recorded like the shared ones but damaged or set up differently, as a new recording can be:
// a trace cut short by the recorder's exit, a buddyinfo snapshot missing its last zone, console markers lost,
// THP set on the kernel command line only, and a folder with nothing `prsim fidelity` can hold to tolerance.
// Each is read or replayed, never refused (and never an internal error), and says what it skipped or inferred.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ParseError } from '../src/core/errors.js';
import { parseFtraceStream, parseFtraceText, type FtraceEvent } from '../src/importers/ftrace.js';
import { loadRun } from '../src/importers/run-folder.js';
import { fidelityRows, replay } from '../src/replay/folder.js';
import { describeRun } from '../src/replay/run-model.js';
import { replayRun } from '../src/replay/run-replay.js';
import { formatFidelity } from '../src/replay/text.js';
import { HAVE_REAL, MISSING_REAL, REAL } from './helpers/shared.js';

const NOTIFY = '     kworker/0:1-29      [000] .....     4.477262: prnotify: (__page_reporting_notify+0x0/0x80)\n';
const PROC = '     kworker/1:1-29      [001] .....     4.477262: prproc: (page_reporting_process+0x0/0x570)\n';

describe('a trace whose last line the recorder cut short', () => {
  it('text: the cut line is skipped and named; the events before it are read', () => {
    const w: string[] = [];
    const text = `# tracer: nop\n${NOTIFY}${PROC}${PROC.slice(0, 50)}`;
    const evs = [...parseFtraceText(text, 'trace.txt', { warnings: w })];
    expect(evs.map((e) => e.event)).toEqual(['prnotify', 'prproc']);
    expect(w).toEqual([expect.stringMatching(/^trace\.txt:4: truncated last line skipped \(not an ftrace event line/)]);
  });

  it('stream: the same', async () => {
    const w: string[] = [];
    const text = `${NOTIFY}${PROC}${PROC.slice(0, 50)}`;
    const evs: FtraceEvent[] = [];
    for await (const e of parseFtraceStream(Readable.from([text.slice(0, 70), text.slice(70)]), 'trace.txt', { warnings: w })) evs.push(e);
    expect(evs.length).toBe(2);
    expect(w).toEqual([expect.stringMatching(/^trace\.txt:3: truncated last line skipped/)]);
  });

  it('the same damage on a line that ends (or before the end) is still refused with file and line', async () => {
    expect(() => [...parseFtraceText(`${NOTIFY}${PROC.slice(0, 50)}\n`, 'trace.txt')]).toThrow(/trace\.txt:2: not an ftrace event line/);
    expect(() => [...parseFtraceText(`${PROC.slice(0, 50)}\n${NOTIFY}`, 'trace.txt')]).toThrow(ParseError);
    const stream = async () => {
      for await (const _ of parseFtraceStream(Readable.from([`${PROC.slice(0, 50)}\n${NOTIFY}`]), 'trace.txt')) { /* read */ }
    };
    await expect(stream()).rejects.toThrow(/trace\.txt:1: not an ftrace event line/);
    // A complete last line without a line end is an event, not a warning.
    const w: string[] = [];
    expect([...parseFtraceText(`${NOTIFY}${PROC.trimEnd()}`, 'trace.txt', { warnings: w })].length).toBe(2);
    expect(w).toEqual([]);
  });
});

describe.skipIf(!HAVE_REAL)(`run folders unlike the shared ones (${HAVE_REAL ? 'real runs' : MISSING_REAL})`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'prsim-unseen-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const variant = (from: string, name: string, edit: (dir: string) => void, parent = tmp) => {
    const dir = join(parent, name);
    cpSync(REAL + from, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const editText = (file: string, f: (t: string) => string) => writeFileSync(file, f(readFileSync(file, 'utf8')));
  const cutLastLine = (file: string) => editText(file, (t) => {
    const body = t.replace(/\n+$/, '');
    const at = body.lastIndexOf('\n');
    return body.slice(0, at + 1) + body.slice(at + 1, at + 1 + Math.floor((body.length - at) / 2));
  });

  it('a run whose trace.txt ends in a cut line replays, with the line in its warnings', () => {
    const dir = variant('E2_memhog512_r1', 'E2_trace_cut', (d) => cutLastLine(join(d, 'guest', 'trace.txt')));
    const c = replayRun(loadRun(dir));
    expect(c.warnings.join('\n')).toMatch(/trace\.txt:\d+: truncated last line skipped/);
    const whole = replayRun(loadRun(REAL + 'E2_memhog512_r1'));
    expect(c.sim.afterFree).toEqual(whole.sim.afterFree);
  });

  it('a pre.buddyinfo cut short (no DMA32 row) is passed over for serial.log\'s records, not refused', () => {
    const dir = variant('E2_memhog512_r1', 'E2_pre_cut', (d) => cutLastLine(join(d, 'guest', 'pre.buddyinfo')));
    const c = replayRun(loadRun(dir));
    expect(c.warnings.join('\n')).toMatch(/pre\.buddyinfo has no full row for zone DMA32; not used/);
    const d = c.details as { workload: { snapshot: string } };
    expect(d.workload.snapshot).toBe('serial.log @B/@P');
    expect(c.sim.afterFree!.passes).toBe(c.real.afterFree!.passes);
  });

  it('THP from the kernel command line when the guest did not print its setting', () => {
    // Booted with transparent_hugepage=never: MADV_HUGEPAGE (THP=huge) gets no folio.
    const never = variant('E2t_memhog512_thp', 'E2t_cmdline_never', (d) => {
      editText(join(d, 'serial.log'), (t) => t.replace(/^.*\t@I thp_enabled .*\n/m, ''));
      rmSync(join(d, 'summary.json'));
      editText(join(d, 'meta.json'), (t) => t.replace(/THP=huge/g, 'THP=huge transparent_hugepage=never'));
    });
    const m = describeRun(loadRun(never));
    expect([m.guestThp, m.guestThpMode, m.guestThpFrom]).toEqual([false, 'never', 'kernel command line']);
    expect(m.cycles.map((c) => c.thp)).toEqual(['never']);
    expect(m.warnings.join('\n')).toMatch(/asks thp=huge on a guest with transparent_hugepage never/);
    const c = replayRun(loadRun(never));
    expect((c.details as { workload: { metrics: { workloads: { thpFaults: number } } } }).workload.metrics.workloads.thpFaults).toBe(0);

    // transparent_hugepage=madvise: THP=huge still gets folios, a script that does not madvise does not.
    const madvise = variant('E2t_memhog512_thp', 'E2t_cmdline_madvise', (d) => {
      editText(join(d, 'serial.log'), (t) => t.replace(/^.*\t@I thp_enabled .*\n/m, ''));
      rmSync(join(d, 'summary.json'));
      editText(join(d, 'meta.json'), (t) => t.replace(/THP=huge/g, 'THP=huge transparent_hugepage=madvise'));
    });
    expect(describeRun(loadRun(madvise)).cycles.map((c) => c.thp)).toEqual(['madvise']);
  });

  it('a script that does not madvise gets folios under [always] and none under [madvise]', () => {
    const strip = (d: string) => {
      editText(join(d, 'serial.log'), (t) => t.replace(/ thp=\S+/g, '').replace(/ THP=\S+/g, ''));
      editText(join(d, 'meta.json'), (t) => t.replace(/ THP=\S+/g, ''));
    };
    const always = variant('E2t_memhog512_thp', 'E2t_no_madvise', strip);
    expect(describeRun(loadRun(always)).cycles.map((c) => c.thp)).toEqual(['always']);
    const madvise = variant('E2t_memhog512_thp', 'E2t_no_madvise_m', (d) => {
      strip(d);
      editText(join(d, 'serial.log'), (t) => t.replace(/(\t@I thp_enabled ).*/, '$1always [madvise] never'));
    });
    expect(describeRun(loadRun(madvise)).cycles.map((c) => c.thp)).toEqual(['never']);
  });

  it('a cycle marker lost from serial.log is inferred from the script\'s timing, the cycle kept', () => {
    const real = describeRun(loadRun(REAL + 'E7_cycles256x4'));
    const drop = (name: string, nth: number) => (t: string) => {
      let k = -1;
      return t.split('\n').filter((l) => !(new RegExp(`\\t@T \\S+ ${name}\\b`).test(l) && ++k === nth)).join('\n');
    };
    const dir = variant('E7_cycles256x4', 'E7_lost_markers', (d) => editText(join(d, 'serial.log'), (t) => drop('alloc_done', 2)(drop('free_done', 1)(drop('free_start', 0)(t)))));
    const m = describeRun(loadRun(dir));
    expect(m.cycles.length).toBe(4);
    // Within the script's own slack (a few ms of marker writing), far below a pass's 2 s.
    expect(Math.abs(m.cycles[0]!.freeStart - real.cycles[0]!.freeStart)).toBeLessThan(0.05);
    expect(Math.abs(m.cycles[1]!.freeDone - real.cycles[1]!.freeDone)).toBeLessThan(0.05);
    expect(Math.abs(m.cycles[2]!.allocDone - real.cycles[2]!.allocDone)).toBeLessThan(0.05);
    expect(m.warnings.filter((w) => /inferred from the script's timing/.test(w)).length).toBe(3);

    // The last free's free_done: from idle_end and IDLE=.
    const e2 = describeRun(loadRun(variant('E2_memhog512_r1', 'E2_no_free_done', (d) => editText(join(d, 'serial.log'), drop('free_done', 0)))));
    const e2real = describeRun(loadRun(REAL + 'E2_memhog512_r1'));
    expect(e2.kind).toBe('memhog');
    expect(Math.abs(e2.cycles[0]!.freeDone - e2real.cycles[0]!.freeDone)).toBeLessThan(0.05);
  });

  it('prsim fidelity: a run with nothing to hold to tolerance is a row that says so, not an internal error', () => {
    const parent = join(tmp, 'fid');
    mkdirSync(parent);
    variant('E2_memhog512_r1', 'E2_no_serial', (d) => rmSync(join(d, 'serial.log')), parent);
    const rows = fidelityRows(parent);
    expect(rows.length).toBe(1);
    expect(rows[0]!).toMatchObject({ run: 'E2_no_serial', window: 'none', real: null, sim: null, ok: false });
    expect(rows[0]!.why[0]).toMatch(/^nothing to compare/);
    expect(formatFidelity(rows, 0.15)).toMatch(/E2_no_serial .* none .* no: nothing to compare/);
  });

  it('a traced run whose trace cannot give a trace replay is replayed as a workload by default, refused (exit 2) when forced', () => {
    // The trace ends before the kpageflags.pre dump's kpf_end marker: the trace window cannot be placed.
    const dir = variant('E5_trace256', 'E5_no_kpf_end', (d) => {
      const text = gunzipSync(readFileSync(join(d, 'guest', 'trace.txt.gz'))).toString('utf8');
      writeFileSync(join(d, 'guest', 'trace.txt'), text.slice(0, text.indexOf('\n', text.indexOf(' kpf_start')) + 1));
      rmSync(join(d, 'guest', 'trace.txt.gz'));
    });
    const c = replay({ dir });
    expect(c.kind).toBe('workload');
    expect(c.warnings[0]).toMatch(/trace\.txt: no kpf_end marker .*; replayed as a workload$/);
    expect(c.sim.afterFree!.passes).toBeGreaterThan(0);
    expect(() => replay({ dir, mode: 'forced' })).toThrow(expect.objectContaining({ name: 'SimError', details: expect.objectContaining({ field: 'kpf_end' }) }));

    // No zoneinfo from before the trace: the trace replay refuses with the files it needs, the default replays
    // the workload from the zones of a later snapshot.
    const nozi = variant('E5_trace256', 'E5_no_pre_zoneinfo', (d) => {
      rmSync(join(d, 'guest', 'kpf_pre.zoneinfo'));
      rmSync(join(d, 'guest', 'pre.zoneinfo'));
    });
    expect(() => replay({ dir: nozi, mode: 'forced' })).toThrow(/no guest\/kpf_pre\.zoneinfo or guest\/pre\.zoneinfo/);
    expect(replay({ dir: nozi }).kind).toBe('workload');
  });

  it('modelled mode refuses a trace whose events run on a cpu the zoneinfo has no pageset for, naming the line', () => {
    // The zoneinfo snapshots say one cpu; the trace has cpu 1 events: the files disagree about the guest.
    const oneCpu = (t: string) => t.replace(/\n {4}cpu: 1\n(?: {14}\S.*\n)+ {2}vm stats threshold: \d+/g, '');
    const dir = variant('E5_trace256', 'E5_one_cpu_zoneinfo', (d) => {
      for (const f of ['kpf_pre', 'pre', 'held', 'end', 'kpf_post']) editText(join(d, 'guest', `${f}.zoneinfo`), oneCpu);
    });
    expect(readFileSync(join(dir, 'guest', 'kpf_pre.zoneinfo'), 'utf8')).not.toMatch(/cpu: 1/);
    let err: unknown;
    try {
      replay({ dir, mode: 'modelled' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'SimError', details: { field: 'cpu', value: 1 } });
    const d = (err as { details: { file: string; line: number } }).details;
    expect(d.file).toMatch(/trace\.txt(\.gz)?$/);
    expect(d.line).toBeGreaterThan(0);
    // The forced replay does not place events on cpus: it still runs.
    expect(replay({ dir, mode: 'forced' }).sim.afterFree!.passes).toBeGreaterThan(0);
  });
});
