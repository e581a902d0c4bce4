import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseReportsCsv } from '../src/importers/csv.js';
import {
  type FtraceEvent, type PrrepEvent, parseFtraceLine, parseFtraceStream, parseFtraceText, readFtraceFile, readFtraceFileSync,
} from '../src/importers/ftrace.js';
import { REAL, REAL_RUNS as RUNS, haveReal, needsReal } from './helpers/shared.js';
import { parseError } from './helpers/factories.js';

const tracePath = (run: string) => {
  const g = `${REAL}${run}/guest/`;
  return g + (readdirSync(g).includes('trace.txt') ? 'trace.txt' : 'trace.txt.gz');
};
const HAVE_E5 = haveReal('E5_trace256');
const E5 = HAVE_E5 ? tracePath('E5_trace256') : '';

function countByEvent(events: Iterable<FtraceEvent>): Record<string, number> {
  const c: Record<string, number> = {};
  for (const e of events) c[e.event] = (c[e.event] ?? 0) + 1;
  return c;
}

// Counted with grep on the real file; the header says entries-in-buffer/entries-written: 332049/332049.
const E5_COUNTS = {
  mm_page_alloc: 66991, mm_page_free: 66494, mm_page_free_batched: 66425, mm_page_alloc_zone_locked: 65866,
  mm_page_pcpu_drain: 66103, prproc: 5, prproc_ret: 5, prnotify: 126, prrep: 9, prrep_ret: 9, tracing_mark_write: 16,
};

describe.skipIf(!HAVE_E5)(needsReal('the E5 kmem trace', 'E5_trace256'), () => {
  const events = HAVE_E5 ? [...readFtraceFileSync(E5)] : [];

  it('has every event, counted by type (no mm_page_alloc_extfrag in this run)', () => {
    expect(countByEvent(events)).toEqual(E5_COUNTS);
    expect(events.length).toBe(332049);
  });

  it('reads the first mm_page_alloc field by field', () => {
    const e = events.find((x) => x.event === 'mm_page_alloc')!;
    expect(e).toEqual({
      event: 'mm_page_alloc', ts: 17.768952, cpu: 0, task: 'init', pid: 1, flags: '.....', line: 39,
      pfn: 0x2004, order: 1, migratetype: 0, gfpFlags: 'GFP_KERNEL_ACCOUNT|__GFP_ZERO',
    });
  });

  it('reads the other kmem events', () => {
    const first = <K extends FtraceEvent['event']>(k: K) => events.find((x) => x.event === k) as Extract<FtraceEvent, { event: K }>;
    expect(first('mm_page_free')).toMatchObject({ ts: 17.773843, cpu: 1, task: 'kworker/1:1', pid: 29, pfn: 0x7458, order: 0 });
    expect(first('mm_page_free_batched')).toMatchObject({ ts: 17.782275, flags: '...2.', pfn: 0x745a, order: 0 });
    expect(first('mm_page_alloc_zone_locked')).toMatchObject({ ts: 17.905760, flags: 'd..3.', pfn: 0x3e880, order: 0, migratetype: 1, percpuRefill: true });
    expect(first('mm_page_pcpu_drain')).toMatchObject({ ts: 22.305619, pfn: 0x17aed, order: 0, migratetype: 1 });
    expect(first('prnotify')).toMatchObject({ ts: 22.309524, probe: '__page_reporting_notify+0x0/0x50' });
    expect(first('prproc')).toMatchObject({ ts: 4.477262, probe: 'page_reporting_process+0x0/0x570' });
    expect(first('prproc_ret')).toMatchObject({ probe: 'process_one_work+0x1c7/0x380 <- page_reporting_process' });
    expect(first('prrep_ret')).toMatchObject({ ts: 4.482837, ret: 0 });
    expect(first('tracing_mark_write')).toMatchObject({ ts: 2.438406, message: '@T 2.437552 balloon_insmod' });
    // Every zone_locked event of 6.1 says whether it refilled a per-cpu list; here all of them did.
    expect(events.every((x) => x.event !== 'mm_page_alloc_zone_locked' || x.percpuRefill === true)).toBe(true);
  });

  it('timestamps never go backwards', () => {
    let last = 0, ok = true;
    for (const e of events) {
      if (e.ts < last) ok = false;
      last = e.ts;
    }
    expect(ok).toBe(true);
  });

  it('streaming the gzip file gives the same events', async () => {
    const c: Record<string, number> = {};
    let n = 0, sumPfn = 0;
    for await (const e of readFtraceFile(E5)) {
      c[e.event] = (c[e.event] ?? 0) + 1;
      if ('pfn' in e) sumPfn += e.pfn;
      n++;
    }
    expect(c).toEqual(E5_COUNTS);
    expect(sumPfn).toBe(events.reduce((s, e) => s + ('pfn' in e ? e.pfn : 0), 0));
    expect(n).toBe(events.length);
  });

  it('a stream can be left early', async () => {
    let first: FtraceEvent | undefined;
    for await (const e of readFtraceFile(E5)) {
      first = e;
      break;
    }
    expect(first).toMatchObject({ event: 'tracing_mark_write', line: 13 });
  });
});

describe.skipIf(!haveReal())(needsReal('prrep decodes to exactly the blocks of reports.csv'), () => {
  it.each(RUNS)('%s', (run) => {
    const reports = parseReportsCsv(readFileSync(`${REAL}${run}/reports.csv`, 'utf8'));
    const batches = [...readFtraceFileSync(tracePath(run))].filter((e): e is PrrepEvent => e.event === 'prrep');
    const rows = batches.flatMap((b, batch) => b.entries.map((x, idx) => ({
      tGuest: b.ts, batch, nents: b.n, idx, pfn: x.pfn, order: x.order, bytes: x.bytes,
    })));
    expect(rows).toEqual(reports.map(({ tGuest, batch, nents, idx, pfn, order, bytes }) => ({ tGuest, batch, nents, idx, pfn, order, bytes })));
  });
});

describe('parseFtraceLine', () => {
  it('skips comments and blank lines', () => {
    expect(parseFtraceLine('# tracer: nop')).toBeNull();
    expect(parseFtraceLine('')).toBeNull();
    expect(parseFtraceLine('   \r')).toBeNull();
  });

  it('reads a task name with spaces and dashes, a tgid column and no flags column', () => {
    const e = parseFtraceLine('  my task-x-42  (   42) [003]   123.000001: mm_page_free: page=0000000012345678 pfn=4096 order=3', 'f', 7)!;
    expect(e).toEqual({ event: 'mm_page_free', ts: 123.000001, cpu: 3, task: 'my task-x', pid: 42, flags: '', line: 7, pfn: 4096, order: 3 });
  });

  it('reads mm_page_alloc_extfrag (6.1 format)', () => {
    const e = parseFtraceLine('  wl-1 [000] d..3.  5.5: mm_page_alloc_extfrag: page=(____ptrval____) pfn=0x3e800 alloc_order=0 fallback_order=9 pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=0 change_ownership=1');
    expect(e).toMatchObject({ event: 'mm_page_alloc_extfrag', pfn: 0x3e800, order: 0, migratetype: 0, fallbackOrder: 9, pageblockOrder: 9, fallbackMigratetype: 1, fragmenting: false, changeOwnership: true });
  });

  it('passes unknown events and lost-event notes through', () => {
    expect(parseFtraceLine('  a-1 [000] .....  1.000000: sched_switch: prev_comm=a next_comm=b')).toMatchObject({ event: 'other', name: 'sched_switch', args: 'prev_comm=a next_comm=b' });
    expect(parseFtraceLine('CPU:1 [LOST 1234 EVENTS]')).toMatchObject({ event: 'lost', cpu: 1, lost: 1234 });
  });

  it('reads a negative prrep_ret', () => {
    expect(parseFtraceLine(' k-1 [000] ..... 1.0: prrep_ret: (a+0x1/0x2 <- b) ret=0xfffffffffffffff4')).toMatchObject({ ret: -12 });
  });

  it('names file, line, field and value of a bad pfn', () => {
    const e = parseError(() => parseFtraceLine('  wl-130  [001] d..3.  22.305619: mm_page_pcpu_drain: page=(____ptrval____) pfn=0x17zz order=0 migratetype=1', 'trace.txt', 99));
    expect(e.details).toMatchObject({ file: 'trace.txt', line: 99, field: 'pfn', value: '0x17zz', event: 'mm_page_pcpu_drain' });
    expect(e.message).toMatch(/^trace\.txt:99: mm_page_pcpu_drain: pfn='0x17zz'/);
  });

  it('names a missing field, a bad order and a bad prrep length', () => {
    expect(parseError(() => parseFtraceLine(' a-1 [000] ..... 1.0: mm_page_alloc: page=x pfn=0x1 order=0 gfp_flags=GFP_USER', 'f', 3)).details)
      .toMatchObject({ line: 3, field: 'migratetype', value: undefined });
    expect(parseError(() => parseFtraceLine(' a-1 [000] ..... 1.0: mm_page_free: page=x pfn=0x1 order=-1', 'f', 4)).details)
      .toMatchObject({ line: 4, field: 'order', value: -1 });
    expect(parseError(() => parseFtraceLine(' k-1 [000] ..... 1.0: prrep: (v+0x0/0x1 [m]) n=0x1 vb=0x1000 p0=0x1040 l0=12288', 'f', 5)).details)
      .toMatchObject({ line: 5, field: 'l0', value: 12288 });
    expect(parseError(() => parseFtraceLine(' k-1 [000] ..... 1.0: prrep: (v+0x0/0x1 [m]) n=0x1 vb=0x1000 p0=0x1010 l0=4096', 'f', 6)).details)
      .toMatchObject({ line: 6, field: 'p0', value: '0x1010' });
  });

  it('refuses a line that is not an event', () => {
    expect(parseError(() => parseFtraceLine('garbage here', 'f', 12)).details).toMatchObject({ file: 'f', line: 12, field: 'line', value: 'garbage here' });
  });

  it('counts lines from 1 with comments included, in text and in streams', async () => {
    const text = '# c\n#\n  a-1 [000] ..... 1.0: mm_page_free: page=x pfn=0x1 order=bad\n';
    expect(() => [...parseFtraceText(text, 't')]).toThrow(/^t:3: mm_page_free: order='bad'/);
    const chunks = (async function* () {
      const bytes = new TextEncoder().encode(text);
      for (let i = 0; i < bytes.length; i += 5) yield bytes.slice(i, i + 5); // split mid-line
    })();
    await expect(async () => {
      for await (const _ of parseFtraceStream(chunks, 's')) void _;
    }).rejects.toThrow(/^s:3: /);
  });
});
