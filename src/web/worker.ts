// The page's simulation worker: the same Simulation as the CLI and the library, one per policy (as `prsim run`
// runs each guest of a scenario as its own job), stepped in lockstep on the virtual clock.
//
// At a finite speed the worker moves from one event time to the next and stops wherever something happens that
// a person should see: a reporting state change (REQUESTED, ACTIVE, IDLE), a report() call (its blocks are in
// flight, the host has just discarded them) or a hinting walk. That frame is posted and held on screen for
// HOLD_MS / speed of wall time before the run goes on, so a pass that takes microseconds of simulated time can be
// watched. The simulation really is stopped there: the map, the hover details and the figures are of that instant.
// At 'max' it runs whole slices. Frames carry the new samples, the metrics, a rendering of the map view and the
// passes and report() calls since the previous frame, as transferable buffers.
import { Simulation, type SimulationSpec } from '../sim/engine.js';
import { mergeResults } from '../sim/split.js';
import type { GuestRun } from '../sim/guest-run.js';
import { hostShiftOf } from '../host/qemu.js';
import { parseScenario } from '../scenario/parse.js';
import { summarize } from '../report/summary.js';
import { ALL_MIGRATE_TYPES, NR_ORDERS } from '../core/types.js';
import { importFiles } from './import.js';
import { clampView, emptyStats, encodePages, mapLayout, overviewView, renderView, type MapLayout, type MapStats, type MapView } from './memmap.js';
import {
  type CallInfo, type ExportData, type FrameMessage, type FromWorker, type GuestFrame, type GuestInfo, type PassInfo,
  type ResetMessage, type Speed, type ToWorker,
  SAMPLE_STRIDE, S, S_FREE_BY_ORDER, SLICE_MS, SPEEDS, holdMsOf, sliceMsOf,
} from './protocol.js';

interface Watch { state: string; calls: number; walks: number }

interface Run {
  spec: SimulationSpec;
  sims: Simulation[];
  layout: MapLayout;
  view: MapView;
  perPage: Uint8Array[];
  stats: MapStats[];
  /** Free pages with Reported set at each sample, per guest. */
  reportedNow: number[][];
  /** Orders that may hold Reported blocks besides those reported so far (a recorded start state's). */
  startOrders: Set<number>;
  /** Posted so far, per guest: samples, passes, report() calls. */
  sent: Array<{ samples: number; passes: number; calls: number }>;
  watch: Watch[];
  durationMs: number;
  /** Simulated time reached by every Simulation. */
  tMs: number;
  /** End of the slice being run. */
  target: number;
}

const post = (msg: FromWorker, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(msg, transfer);

let run: Run | null = null;
let gen = 0;
let seq = 0;
let acked = 0;
let playing = false;
let speed: Speed = 5;
let timer: ReturnType<typeof setTimeout> | null = null;
/** Frames the page may be behind before the worker waits for it. */
const MAX_AHEAD = 2;

const guestOf = (sim: Simulation): GuestRun => sim.guests[0]!;

/** Free pages whose block carries Reported, read through the guest's free lists. */
function reportedNowPages(g: GuestRun, startOrders: Set<number>): number {
  const byOrder = g.reporting?.metrics.reportedByOrder;
  let pages = 0;
  for (let o = 0; o < NR_ORDERS; o++) {
    if (!(byOrder && byOrder[o]! > 0) && !startOrders.has(o)) continue;
    g.guest.config.zones.forEach((_, z) => {
      for (const mt of ALL_MIGRATE_TYPES) {
        for (const head of g.guest.freeList(z, o, mt)) if (g.guest.pfnState(head).reported) pages += 2 ** o;
      }
    });
  }
  return pages;
}

function watchOf(sim: Simulation): Watch {
  const g = guestOf(sim);
  return { state: g.reporting?.state ?? '', calls: g.reporting?.metrics.reportCalls ?? 0, walks: g.hinting?.metrics.walks ?? 0 };
}

function build(m: ResetMessage): Run {
  const { spec } = parseScenario(m.doc, m.file);
  for (const g of spec.guests) {
    // The pass timeline needs every report() call; recording changes nothing else.
    if (g.policy.kind === 'reporting') g.policy = { ...g.policy, record: true };
    if (m.startState) g.startState = m.startState;
  }
  const sims = spec.guests.map((g) => new Simulation({ ...spec, guests: [g] }));
  const layout = mapLayout(guestOf(sims[0]!).guest.config.maxPfn);
  const startOrders = new Set<number>((m.startState?.free ?? []).filter((b) => b.reported).map((b) => b.order));
  const r: Run = {
    spec, sims, layout,
    view: m.view ? clampView(layout, m.view) : overviewView(layout),
    perPage: sims.map((s) => new Uint8Array(guestOf(s).guest.config.maxPfn)),
    stats: sims.map(() => emptyStats()),
    reportedNow: sims.map(() => []),
    startOrders,
    sent: sims.map(() => ({ samples: 0, passes: 0, calls: 0 })),
    watch: [],
    durationMs: spec.durationS * 1000,
    tMs: 0,
    target: 0,
  };
  sims.forEach((sim, i) => {
    // After every event: a sample just taken gets its reported-now figure at the same instant.
    sim.onProgress = () => {
      const rn = r.reportedNow[i]!;
      while (rn.length < sim.samples[0]!.length) rn.push(reportedNowPages(guestOf(sim), startOrders));
    };
    sim.start();
  });
  r.watch = sims.map(watchOf);
  return r;
}

function info(r: Run): GuestInfo[] {
  return r.sims.map((sim) => {
    const g = guestOf(sim);
    const p = g.spec.policy;
    const rep = g.reporting;
    const d = g.spec.device;
    return {
      name: g.name,
      policy: p.kind === 'reporting' ? `reporting ${g.guest.config.profile}` : p.kind,
      kind: p.kind,
      maxPfn: g.guest.config.maxPfn,
      managedPages: g.guest.config.zones.reduce((a, z) => a + z.managed, 0),
      cpus: g.guest.config.cpus,
      zones: g.guest.config.zones.map((z) => ({ name: z.name, startPfn: z.startPfn, endPfn: z.endPfn })),
      reporting: rep ? { order: rep.order, capacity: rep.capacity, delayMs: rep.delayMs, budgetDivisor: rep.budgetDivisor } : null,
      hinting: g.hinting && p.kind === 'hinting'
        ? { use: p.use ?? 'discard', minOrder: g.hinting.minOrder, intervalMs: g.hinting.intervalMs }
        : null,
      device: p.kind !== 'reporting' ? '' : !d ? 'virtio-balloon' : d.kind === 'slow' ? `slow (${d.latencyMs} ms)` : d.kind === 'failing' ? `failing (every ${d.every})` : d.kind,
      k0: r.layout.k0,
      rows: r.layout.rows,
    };
  });
}

function callsOf(g: GuestRun, from: number): CallInfo[] {
  const recs = g.reporting?.reports ?? [];
  return recs.slice(from).map((c) => {
    const byOrder = new Array<number>(NR_ORDERS).fill(0);
    let pages = 0;
    for (const [, o] of c.entries) {
      byOrder[o]!++;
      pages += 2 ** o;
    }
    return { t: c.t, pass: c.pass, blocks: c.entries.length, pages, byOrder, status: c.status };
  });
}

function frame(r: Run, reason: FrameMessage['reason']): void {
  const transfer: Transferable[] = [];
  const guests: GuestFrame[] = r.sims.map((sim, i) => {
    const g = guestOf(sim);
    const sent = r.sent[i]!;
    const all = sim.samples[0]!;
    const rn = r.reportedNow[i]!;
    const fresh = all.slice(sent.samples);
    const samples = new Float64Array(fresh.length * SAMPLE_STRIDE);
    fresh.forEach((s, k) => {
      const o = k * SAMPLE_STRIDE;
      samples.set([s.t, s.rssKib, s.freePages, s.pagesReported, s.reportCalls, s.inflightPages, s.allocatedPages, s.refaults], o);
      samples[o + S.reportedNow] = rn[sent.samples + k] ?? 0;
      samples.set(s.freeByOrder, o + S_FREE_BY_ORDER);
    });
    sent.samples = all.length;
    const passLog = g.reporting?.passLog ?? [];
    const passes: PassInfo[] = passLog.slice(sent.passes).map((p) => ({ ...p }));
    sent.passes = passLog.length;
    const calls = callsOf(g, sent.calls);
    sent.calls = g.reporting?.reports.length ?? 0;

    const stats = r.stats[i]!;
    encodePages(g.guest.pageViews(), g.guest.config.maxPfn, hostShiftOf(g.host.backing), r.perPage[i]!, stats);
    const map = new Uint8Array(r.view.cols * r.view.rows);
    renderView(r.perPage[i]!, g.guest.config.maxPfn, r.view, map);
    transfer.push(samples.buffer, map.buffer);
    return {
      samples, map,
      pages: Array.from(stats.pages), freeReported: Array.from(stats.freeReported), freeUnreported: Array.from(stats.freeUnreported),
      metrics: g.metrics(),
      markers: g.markers(),
      state: g.reporting?.state ?? '',
      order: g.reporting ? g.reporting.order : -1,
      passes, calls,
    };
  });
  const done = r.tMs >= r.durationMs;
  if (done) playing = false;
  const holdMs = reason === 'state' || reason === 'report' ? holdMsOf(speed) : 0;
  post({ type: 'frame', gen, seq: ++seq, tMs: r.tMs, durationMs: r.durationMs, done, playing, reason, holdMs, view: r.view, guests }, transfer);
}

/** What changed since the last look, if anything worth a frame. */
function changed(r: Run): 'state' | 'report' | null {
  let out: 'state' | 'report' | null = null;
  r.sims.forEach((sim, i) => {
    const now = watchOf(sim);
    const was = r.watch[i]!;
    if (now.calls !== was.calls || now.walks !== was.walks) out = 'report';
    else if (now.state !== was.state && out === null) out = 'state';
    r.watch[i] = now;
  });
  return out;
}

/**
 * Run every Simulation to `target` (lockstep). With `stopAtChange`, go one event time at a time and stop at the
 * first change worth seeing; returns why it stopped.
 */
function advance(r: Run, target: number, stopAtChange: boolean): FrameMessage['reason'] {
  target = Math.min(target, r.durationMs);
  if (stopAtChange) {
    for (;;) {
      const next = Math.min(...r.sims.map((s) => s.clock.peek()));
      if (!(next <= target)) break;
      for (const sim of r.sims) sim.runSync(next);
      r.tMs = next;
      const why = changed(r);
      if (why) return why;
    }
  }
  for (const sim of r.sims) sim.runSync(target);
  r.tMs = target;
  changed(r);
  return 'slice';
}

/** Run the rest of the slice (or a new one) up to the next thing worth seeing, and post that frame. */
function runOn(r: Run): FrameMessage['reason'] {
  if (r.tMs >= r.target) r.target = Math.min(r.durationMs, r.tMs + sliceMsOf(speed));
  const reason = advance(r, r.target, speed !== 'max');
  frame(r, reason);
  return reason;
}

function clearTimer(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function schedule(delayMs: number): void {
  clearTimer();
  timer = setTimeout(tick, delayMs);
}

/** One step of the play loop: the rest of the slice (or a new one), up to the next thing worth seeing. */
function tick(): void {
  timer = null;
  const r = run;
  if (!r || !playing) return;
  if (r.tMs >= r.durationMs) {
    playing = false;
    post({ type: 'status', gen, playing, speed });
    return;
  }
  // Wait for the page to draw: an ack restarts the loop.
  if (seq - acked >= MAX_AHEAD) return;
  const t0 = performance.now();
  const reason = runOn(r);
  if (!playing) return;
  if (reason !== 'slice') schedule(holdMsOf(speed));
  else schedule(speed === 'max' ? 0 : Math.max(0, SLICE_MS - (performance.now() - t0)));
}

function exportData(r: Run): ExportData {
  // As `prsim run` puts the guests it ran as separate jobs together.
  const result = mergeResults(r.spec, r.sims.map((s) => s.result()), 0);
  const guests = result.guests;
  return {
    result,
    summaries: guests.map(summarize),
    reportedNow: r.reportedNow.map((x) => x.slice(0, r.sims[0]!.samples[0]!.length)),
    passes: r.sims.map((s) => (guestOf(s).reporting?.passLog ?? []).map((p) => ({ ...p }))),
    calls: r.sims.map((s) => callsOf(guestOf(s), 0)),
  };
}

function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    playing = false;
    clearTimer();
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

self.onmessage = (ev: MessageEvent<ToWorker>) => guarded(() => {
  const m = ev.data;
  switch (m.type) {
    case 'reset': {
      clearTimer();
      playing = false;
      gen++;
      seq = acked = 0;
      run = null;
      if ((SPEEDS as readonly unknown[]).includes(m.speed)) speed = m.speed;
      const r = build(m);
      run = r;
      post({ type: 'ready', gen, durationMs: r.durationMs, sampleMs: r.spec.sampleMs ?? 50, guests: info(r), view: r.view });
      advance(r, 0, false); // boot, registration and the first sample: the map at t = 0
      frame(r, 'slice');
      playing = m.play;
      post({ type: 'status', gen, playing, speed });
      if (playing) schedule(0);
      break;
    }
    case 'play':
      if (!run || run.tMs >= run.durationMs) return;
      playing = true;
      post({ type: 'status', gen, playing, speed });
      schedule(0);
      break;
    case 'pause':
      playing = false;
      clearTimer();
      post({ type: 'status', gen, playing, speed });
      break;
    case 'step': {
      const r = run;
      if (!r || r.tMs >= r.durationMs) return;
      playing = false;
      clearTimer();
      runOn(r);
      post({ type: 'status', gen, playing, speed });
      break;
    }
    case 'speed':
      if ((SPEEDS as readonly unknown[]).includes(m.speed)) speed = m.speed;
      if (run) run.target = Math.min(run.target, run.tMs + sliceMsOf(speed));
      post({ type: 'status', gen, playing, speed });
      break;
    case 'ack':
      if (m.gen !== gen) return;
      if (m.seq > acked) acked = m.seq;
      if (playing && timer === null) schedule(0);
      break;
    case 'view':
      if (!run || m.gen !== gen) return;
      run.view = clampView(run.layout, m.view);
      frame(run, 'view');
      break;
    case 'inspect': {
      if (!run || m.gen !== gen) return;
      const g = run.sims[m.guest] ? guestOf(run.sims[m.guest]!) : null;
      if (!g || !(m.pfn >= 0 && m.pfn < g.guest.config.maxPfn)) {
        post({ type: 'inspect', gen, id: m.id, guest: m.guest, state: null });
        return;
      }
      post({ type: 'inspect', gen, id: m.id, guest: m.guest, state: g.guest.pfnState(Math.floor(m.pfn)) });
      break;
    }
    case 'export':
      if (!run || m.gen !== gen) return;
      post({ type: 'export', gen, id: m.id, data: exportData(run) });
      break;
    case 'import':
      try {
        post({ type: 'imported', id: m.id, ok: true, imported: importFiles(m.files) });
      } catch (e) {
        post({ type: 'imported', id: m.id, ok: false, message: e instanceof Error ? e.message : String(e) });
      }
      break;
  }
});
