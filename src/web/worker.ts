// The page's simulation worker: the same Simulation as the CLI and the library, one per policy, stepped in
// lockstep on the virtual clock. Each slice (100 ms of simulated time × speed) ends with a frame: the new samples,
// the metrics and a memory map per guest, posted as transferable buffers.
import { Simulation } from '../sim/engine.js';
import { hostShiftOf } from '../host/qemu.js';
import { scenarioSpec, getScenario, isPolicyId } from './scenarios.js';
import { encodePages, mapGeometry, reduceToPixels, type MapGeometry } from './memmap.js';
import {
  type FromWorker, type GuestFrame, type GuestInfo, type RunConfig, type Speed, type ToWorker,
  SAMPLE_STRIDE, S_FREE_BY_ORDER, SLICE_MS, SPEEDS, sliceMsOf,
} from './protocol.js';

interface Run {
  config: RunConfig;
  sims: Simulation[];
  geos: MapGeometry[];
  perPage: Uint8Array[];
  /** Samples already posted, per guest. */
  sent: number[];
  durationMs: number;
  /** Simulated time reached by every Simulation. */
  tMs: number;
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

function build(config: RunConfig): Run {
  getScenario(config.scenario);
  for (const p of config.policies) if (!isPolicyId(p)) throw new Error(`unknown policy '${p}'`);
  const sims = config.policies.map((p) => new Simulation(scenarioSpec(config.scenario, p, config.seed)));
  const geos = sims.map((s) => mapGeometry(s.guests[0]!.guest.config.maxPfn));
  return {
    config, sims, geos,
    perPage: geos.map((g) => new Uint8Array(g.maxPfn)),
    sent: sims.map(() => 0),
    durationMs: sims[0]!.spec.durationS * 1000,
    tMs: 0,
  };
}

function info(r: Run): GuestInfo[] {
  return r.sims.map((sim, i) => {
    const g = sim.guests[0]!;
    const geo = r.geos[i]!;
    const p = g.spec.policy;
    return {
      policy: r.config.policies[i]!,
      policyLabel: p.kind === 'reporting' ? `reporting ${g.guest.config.profile}` : p.kind,
      maxPfn: geo.maxPfn,
      managedPages: g.guest.config.zones.reduce((a, z) => a + z.managed, 0),
      zones: g.guest.config.zones.map((z) => ({ name: z.name, startPfn: z.startPfn, endPfn: z.endPfn })),
      pagesPerPixel: geo.pagesPerPixel,
      mapWidth: geo.width,
      mapHeight: geo.height,
    };
  });
}

function frame(r: Run, wallMs: number): void {
  const transfer: Transferable[] = [];
  const guests: GuestFrame[] = r.sims.map((sim, i) => {
    const g = sim.guests[0]!;
    const all = sim.samples[0]!;
    const fresh = all.slice(r.sent[i]!);
    r.sent[i] = all.length;
    const samples = new Float64Array(fresh.length * SAMPLE_STRIDE);
    fresh.forEach((s, k) => {
      const o = k * SAMPLE_STRIDE;
      samples.set([s.t, s.rssKib, s.freePages, s.pagesReported, s.reportCalls, s.inflightPages, s.allocatedPages, s.refaults], o);
      samples.set(s.freeByOrder, o + S_FREE_BY_ORDER);
    });
    const geo = r.geos[i]!;
    encodePages(g.guest.pageViews(), geo.maxPfn, hostShiftOf(g.host.backing), r.perPage[i]!);
    const map = new Uint8Array(geo.width * geo.height);
    reduceToPixels(r.perPage[i]!, geo, map);
    transfer.push(samples.buffer, map.buffer);
    return { samples, map, metrics: sim.result().guests[0]!.metrics, state: g.reporting?.state ?? '' };
  });
  const done = r.tMs >= r.durationMs;
  if (done) playing = false;
  post({ type: 'frame', gen, seq: ++seq, tMs: r.tMs, durationMs: r.durationMs, done, playing, wallMs, guests }, transfer);
}

/** Run every Simulation to `tMs` (lockstep), then post a frame. */
function advanceTo(r: Run, tMs: number): void {
  const target = Math.min(tMs, r.durationMs);
  const t0 = performance.now();
  for (const sim of r.sims) sim.runSync(target);
  r.tMs = target;
  frame(r, performance.now() - t0);
}

function clearTimer(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function schedule(delayMs: number): void {
  clearTimer();
  timer = setTimeout(tick, delayMs);
}

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
  advanceTo(r, r.tMs + sliceMsOf(speed));
  if (playing) schedule(speed === 'max' ? 0 : Math.max(0, SLICE_MS - (performance.now() - t0)));
}

function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    playing = false;
    clearTimer();
    post({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
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
      if ((SPEEDS as readonly unknown[]).includes(m.speed)) speed = m.speed;
      const r = build({ scenario: m.scenario, policies: m.policies, seed: m.seed });
      run = r;
      post({ type: 'ready', gen, config: r.config, durationMs: r.durationMs, guests: info(r) });
      advanceTo(r, 0); // boot, registration and the first sample: the map at t = 0
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
    case 'step':
      if (!run || run.tMs >= run.durationMs) return;
      playing = false;
      clearTimer();
      advanceTo(run, run.tMs + sliceMsOf(speed));
      post({ type: 'status', gen, playing, speed });
      break;
    case 'speed':
      if ((SPEEDS as readonly unknown[]).includes(m.speed)) speed = m.speed;
      post({ type: 'status', gen, playing, speed });
      break;
    case 'ack':
      if (m.gen !== gen) return;
      if (m.seq > acked) acked = m.seq;
      if (playing && timer === null) schedule(0);
      break;
  }
});
