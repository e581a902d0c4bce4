// The page: controls, a memory map per policy, live charts and figures. The simulation runs in worker.ts; this
// file only draws what the worker posts, and acknowledges each drawn frame so the worker never runs far ahead.
import { SCENARIOS, POLICY_IDS, POLICY_LABELS, DEFAULT_POLICIES, DEFAULT_SCENARIO, DEFAULT_SEED, getScenario, isPolicyId, type PolicyId } from './scenarios.js';
import { MAP_LEGEND, MapCode } from './memmap.js';
import { TimeChart, BarChart, type Series } from './charts.js';
import {
  type FromWorker, type GuestInfo, type GuestFrame, type RunConfig, type Speed, type ToWorker,
  SPEEDS, SAMPLE_STRIDE, S, S_FREE_BY_ORDER,
} from './protocol.js';

const COLORS = ['#f0883e', '#39c5cf'];
const MiB_PAGES = 256;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

// --- palette: MapCode -> RGBA as one little-endian u32 ---
const palette = new Uint32Array(8);
for (const { code, color } of MAP_LEGEND) {
  const n = parseInt(color.slice(1), 16);
  palette[code] = (0xff << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff);
}
const CODE_TEXT: Record<number, string> = Object.fromEntries(MAP_LEGEND.map((l) => [l.code, l.label]));

// --- controls ---
const scenarioSel = $<HTMLSelectElement>('scenario');
const policySel = [$<HTMLSelectElement>('policy-0'), $<HTMLSelectElement>('policy-1')];
const seedInput = $<HTMLInputElement>('seed');
const speedSel = $<HTMLSelectElement>('speed');
const playBtn = $<HTMLButtonElement>('play');
const stepBtn = $<HTMLButtonElement>('step');
const resetBtn = $<HTMLButtonElement>('reset');

for (const s of SCENARIOS) scenarioSel.add(new Option(s.label, s.id));
for (const sel of policySel) for (const p of POLICY_IDS) sel.add(new Option(POLICY_LABELS[p], p));
for (const s of SPEEDS) speedSel.add(new Option(s === 'max' ? 'max' : `×${s}`, String(s)));
$('legend').innerHTML = MAP_LEGEND.map((l) => `<li><i style="background:${l.color}"></i>${l.label}</li>`).join('');

const params = new URLSearchParams(location.search);
const parseSpeed = (v: string | null): Speed | null => {
  if (v === 'max') return 'max';
  const n = Number(v);
  return (SPEEDS as readonly unknown[]).includes(n) ? (n as Speed) : null;
};
let config: RunConfig = {
  scenario: SCENARIOS.some((s) => s.id === params.get('scenario')) ? params.get('scenario')! : DEFAULT_SCENARIO,
  policies: [0, 1].map((i) => {
    const p = params.get(i ? 'b' : 'a');
    return p && isPolicyId(p) ? p : DEFAULT_POLICIES[i]!;
  }) as [PolicyId, PolicyId],
  seed: Number.isInteger(Number(params.get('seed'))) && params.get('seed') !== null ? Number(params.get('seed')) : DEFAULT_SEED,
};
let speed: Speed = parseSpeed(params.get('speed')) ?? 5;
const autoplay = params.get('autoplay') !== '0';

function showConfig(): void {
  scenarioSel.value = config.scenario;
  policySel.forEach((s, i) => (s.value = config.policies[i]!));
  seedInput.value = String(config.seed);
  speedSel.value = String(speed);
  $('desc').textContent = getScenario(config.scenario).description;
  const q = new URLSearchParams({ scenario: config.scenario, a: config.policies[0], b: config.policies[1], seed: String(config.seed), speed: String(speed) });
  if (!autoplay) q.set('autoplay', '0');
  history.replaceState(null, '', `?${q}`);
}

// --- charts ---
const series = (): Series[] => config.policies.map((p, i) => ({ label: `${'AB'[i]} ${p}`, color: COLORS[i]! }));
const rssChart = new TimeChart($<HTMLCanvasElement>('chart-rss'), 'Host RSS', series(), { unit: 'MiB', format: (v) => String(Math.round(v)) });
const reportedChart = new TimeChart($<HTMLCanvasElement>('chart-reported'), 'Pages reported', series(), {});
const ordersChart = new BarChart($<HTMLCanvasElement>('chart-orders'), 'Free memory per order', series(),
  Array.from({ length: 11 }, (_, o) => String(o)), { unit: 'MiB', logMin: 0.01, logMax: 1000 });

// --- run state ---
let gen = -1;
let infos: GuestInfo[] = [];
let latest: GuestFrame[] | null = null;
let latestSeq = 0;
let tMs = 0;
let durationMs = 1;
let playing = false;
let done = false;
let rafPending = false;
const images: ImageData[] = [];
const codes: Uint8Array[] = [];
const lastSample: Float64Array[] = [];
let frames = 0;

const worker = new Worker('./worker.js', { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);

function reset(play: boolean): void {
  done = false;
  latest = null;
  $('error').style.display = 'none';
  showConfig();
  setStatus('loading');
  send({ type: 'reset', ...config, speed, play });
}

function setStatus(state: 'loading' | 'running' | 'paused' | 'done'): void {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = state === 'running' ? `running ${speed === 'max' ? 'max' : `×${speed}`}` : state;
  playBtn.textContent = state === 'running' ? 'Pause' : state === 'done' ? 'Replay' : 'Play';
  stepBtn.disabled = state === 'done' || state === 'loading';
}

function onReady(m: Extract<FromWorker, { type: 'ready' }>): void {
  gen = m.gen;
  infos = m.guests;
  durationMs = m.durationMs;
  const sc = getScenario(m.config.scenario);
  rssChart.reset(series(), sc.durationS, sc.marks, niceMiB(infos[0]!.maxPfn / MiB_PAGES));
  reportedChart.reset(series(), sc.durationS, sc.marks);
  ordersChart.reset(series());
  infos.forEach((g, i) => {
    const canvas = $<HTMLCanvasElement>(`map-${i}`);
    canvas.width = g.mapWidth;
    canvas.height = g.mapHeight;
    images[i] = new ImageData(g.mapWidth, g.mapHeight);
    codes[i] = new Uint8Array(g.mapWidth * g.mapHeight);
    lastSample[i] = new Float64Array(SAMPLE_STRIDE);
    $(`label-${i}`).textContent = POLICY_LABELS[g.policy];
    const hint = g.policy === 'hinting';
    $(`reported-label-${i}`).textContent = hint ? 'pages hinted' : 'pages reported';
    $(`calls-label-${i}`).textContent = hint ? 'hint walks' : 'report calls';
  });
  const ppp = infos[0]!.pagesPerPixel;
  $('map-scale').textContent = ppp === 1
    ? 'one pixel is one 4 KiB page, one row one 2 MiB pageblock'
    : `one pixel is ${ppp} pages (the most common state), one row ${ppp * 2} MiB`;
}

function niceMiB(v: number): number {
  const steps = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
  return steps.find((s) => s >= v) ?? v;
}

function onFrame(m: Extract<FromWorker, { type: 'frame' }>): void {
  if (m.gen !== gen) return;
  frames++;
  tMs = m.tMs;
  durationMs = m.durationMs;
  m.guests.forEach((g, i) => {
    const s = g.samples;
    for (let o = 0; o + SAMPLE_STRIDE <= s.length; o += SAMPLE_STRIDE) {
      const t = s[o + S.t]! / 1000;
      rssChart.push(i, t, s[o + S.rssKib]! / 1024);
      reportedChart.push(i, t, s[o + S.pagesReported]!);
    }
    if (s.length >= SAMPLE_STRIDE) lastSample[i] = s.slice(s.length - SAMPLE_STRIDE);
  });
  latest = m.guests;
  latestSeq = m.seq;
  playing = m.playing;
  if (m.done) {
    done = true;
    playing = false;
  }
  if (!rafPending) {
    rafPending = true;
    requestAnimationFrame(render);
  }
}

function render(): void {
  rafPending = false;
  if (!latest) return;
  latest.forEach((g, i) => {
    drawMap(i, g.map);
    figures(i, g);
  });
  compare(latest);
  rssChart.nowS = reportedChart.nowS = tMs / 1000;
  latest.forEach((_, i) => {
    const s = lastSample[i]!;
    ordersChart.values[i] = Array.from({ length: 11 }, (_, o) => s[S_FREE_BY_ORDER + o]! / MiB_PAGES);
  });
  rssChart.draw();
  reportedChart.draw();
  ordersChart.draw();
  const time = $('time');
  time.dataset.t = String(tMs);
  time.textContent = `t = ${(tMs / 1000).toFixed(1)} s / ${durationMs / 1000} s`;
  $('progress').style.width = `${(100 * tMs) / durationMs}%`;
  setStatus(done ? 'done' : playing ? 'running' : 'paused');
  document.body.dataset.frames = String(frames);
  send({ type: 'ack', gen, seq: latestSeq });
}

/** One line that says which policy leaves less on the host right now. */
function compare(g: GuestFrame[]): void {
  const [a, b] = g.map((x) => (x.metrics.hostRssKib ?? 0) / 1024);
  const el = $('compare');
  if (a === undefined || b === undefined) return;
  const d = b - a;
  const pa = config.policies[0], pb = config.policies[1];
  el.innerHTML = Math.abs(d) < 0.05
    ? `Host RSS now: A and B both hold <b>${a.toFixed(1)} MiB</b>`
    : `Host RSS now: B (${pb}) holds <b class="${d > 0 ? 'worse' : ''}">${Math.abs(d).toFixed(1)} MiB ${d < 0 ? 'less' : 'more'}</b> than A (${pa})`;
}

function drawMap(i: number, map: Uint8Array): void {
  const img = images[i]!;
  const px = new Uint32Array(img.data.buffer);
  for (let k = 0; k < map.length; k++) px[k] = palette[map[k]!]!;
  codes[i] = map;
  $<HTMLCanvasElement>(`map-${i}`).getContext('2d')!.putImageData(img, 0, 0);
}

function setFigure(id: string, value: number, text: string, unit = '', sub = ''): void {
  const el = $(id);
  el.dataset.value = String(value);
  el.innerHTML = text + (unit ? `<small>${unit}</small>` : '') + (sub ? `<small class="sub">${sub}</small>` : '');
}

/** Pages as an amount of memory. */
function pagesText(pages: number): string {
  const mib = pages / MiB_PAGES;
  return mib >= 1024 ? `${(mib / 1024).toFixed(2)} GiB` : `${mib.toFixed(mib >= 100 || mib === 0 ? 0 : 1)} MiB`;
}

function figures(i: number, g: GuestFrame): void {
  const m = g.metrics;
  const hint = infos[i]?.policy === 'hinting';
  const rssKib = m.hostRssKib ?? 0;
  setFigure(`rss-${i}`, rssKib, (rssKib / 1024).toFixed(1), 'MiB');
  const free = lastSample[i]![S.freePages]!;
  setFigure(`free-${i}`, free, (free / MiB_PAGES).toFixed(1), 'MiB');
  const reported = hint ? m['hint.pagesHinted'] ?? 0 : m.pagesReported ?? 0;
  setFigure(`pages-reported-${i}`, reported, reported.toLocaleString('en-US'), '', pagesText(reported));
  const calls = hint ? m['hint.walks'] ?? 0 : m.reportCalls ?? 0;
  setFigure(`report-calls-${i}`, calls, calls.toLocaleString('en-US'), '', hint ? '' : `in ${m.passes ?? 0} passes`);
  const refaultPages = m.refaultPages ?? 0;
  setFigure(`refaults-${i}`, refaultPages, (refaultPages / MiB_PAGES).toFixed(1), 'MiB');
  const st = $(`state-${i}`);
  st.dataset.state = g.state;
  st.textContent = g.state || (hint ? 'HINTING' : 'NO REPORTING');
}

// --- hover: what a pixel is ---
for (const i of [0, 1]) {
  const canvas = $<HTMLCanvasElement>(`map-${i}`);
  const info = $(`mapinfo-${i}`);
  canvas.addEventListener('mousemove', (ev) => {
    const g = infos[i];
    if (!g) return;
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - r.left) / r.width) * g.mapWidth);
    const y = Math.floor(((ev.clientY - r.top) / r.height) * g.mapHeight);
    const px = y * g.mapWidth + x;
    const pfn = px * g.pagesPerPixel;
    if (x < 0 || y < 0 || x >= g.mapWidth || pfn >= g.maxPfn) return;
    const zone = g.zones.find((z) => pfn >= z.startPfn && pfn < z.endPfn)?.name ?? '—';
    info.textContent = `pfn ${pfn} (0x${pfn.toString(16)}) · pageblock ${Math.floor(pfn / 512)} · ${zone} · ${CODE_TEXT[codes[i]?.[px] ?? MapCode.HOLE]}`;
  });
  canvas.addEventListener('mouseleave', () => (info.textContent = ''));
}

// --- wiring ---
worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'ready': onReady(m); break;
    case 'frame': onFrame(m); break;
    case 'status':
      if (m.gen !== gen) return;
      playing = m.playing;
      if (!rafPending) setStatus(done ? 'done' : playing ? 'running' : 'paused');
      break;
    case 'error': {
      const el = $('error');
      el.textContent = `The simulation stopped: ${m.message}`;
      el.style.display = 'block';
      playing = false;
      setStatus('paused');
      break;
    }
  }
};
worker.onerror = (ev) => {
  const el = $('error');
  el.textContent = `The worker failed: ${ev.message || 'unknown error'}`;
  el.style.display = 'block';
};

function togglePlay(): void {
  if (done) return reset(true);
  send({ type: playing ? 'pause' : 'play' });
}
playBtn.addEventListener('click', togglePlay);
stepBtn.addEventListener('click', () => send({ type: 'step' }));
resetBtn.addEventListener('click', () => reset(playing));
speedSel.addEventListener('change', () => {
  speed = parseSpeed(speedSel.value) ?? 5;
  showConfig();
  send({ type: 'speed', speed });
});
const reconfigure = () => {
  const seed = Number(seedInput.value);
  config = {
    scenario: scenarioSel.value,
    policies: policySel.map((s) => s.value) as [PolicyId, PolicyId],
    seed: Number.isInteger(seed) && seed >= 0 ? seed : DEFAULT_SEED,
  };
  reset(playing || done);
};
scenarioSel.addEventListener('change', reconfigure);
policySel.forEach((s) => s.addEventListener('change', reconfigure));
seedInput.addEventListener('change', reconfigure);
document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === ' ') { ev.preventDefault(); togglePlay(); }
  else if (ev.key === '.') send({ type: 'step' });
  else if (ev.key === 'r') reset(playing);
});
window.addEventListener('resize', () => {
  rssChart.draw();
  reportedChart.draw();
  ordersChart.draw();
});

reset(autoplay);
