// The page: the experiment (URL ↔ scenario document), a memory map per policy, live charts, the pass timeline,
// your own data and exports. The simulation runs in worker.ts; this file draws what the worker posts and
// acknowledges each drawn frame so the worker never runs far ahead.
import { buildExperiment, DEFAULT_POLICIES, DEVICE_PARAMS, DEFAULT_SCENARIO, PAGE_POLICIES, policyShorthandOf, scenarioJson, type Built, type CatalogueEntry } from './experiment.js';
import { parseScenario } from '../scenario/parse.js';
import { formHtml } from './form.js';
import { MAP_LEGEND, MapCode, cellPfn, type MapView } from './memmap.js';
import { MapZoom, cellAt, drawMap, mapInfoText, swatchCss } from './mapview.js';
import { passText, svgToPng, timelinePasses } from './charts.js';
import { pageCharts, newTrack, type Curve, type Track } from './page-charts.js';
import { escapeXml } from '../report/svg.js';
import { timeSeriesCsv } from '../report/csv.js';
import { htmlReport } from '../report/html.js';
import { filesFromDrop, filesFromInput } from './files.js';
import type { Imported } from './import.js';
import { REPORTING_ORDER_OFF } from '../core/types.js';
import {
  type ExportData, type FrameMessage, type FromWorker, type GuestFrame, type GuestInfo, type Speed, type ToWorker,
  SPEEDS, SAMPLE_STRIDE, S,
} from './protocol.js';

const MiB_PAGES = 256;
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

// --- state ---
let catalogue: CatalogueEntry[] = [];
let params = new URLSearchParams(location.search);
let built: Built | null = null;
let imported: Imported | null = null;
let speed: Speed = 5;
const autoplay = params.get('autoplay') !== '0';
let gen = -1;
let infos: GuestInfo[] = [];
let durationS = 40;
let tMs = 0;
let playing = false;
let done = false;
let frames = 0;
let rafPending = false;
let latest: FrameMessage | null = null;
let zoom = new MapZoom(1, 512, 262144);
let view: MapView = zoom.view();

let tracks: Track[] = [];

const worker = new Worker('./worker.js', { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);
let nextId = 1;
const waiting = new Map<number, (m: FromWorker) => void>();
/** Send a message with an id and wait for the answer with that id. */
function request<T extends FromWorker>(m: ToWorker & { id: number }): Promise<T> {
  return new Promise<T>((ok) => {
    waiting.set(m.id, ok as (m: FromWorker) => void);
    send(m);
  });
}

// --- controls ---
const scenarioSel = $<HTMLSelectElement>('scenario');
const policySel = [$<HTMLSelectElement>('policy-0'), $<HTMLSelectElement>('policy-1')];
const seedInput = $<HTMLInputElement>('seed');
const speedSel = $<HTMLSelectElement>('speed');
const playBtn = $<HTMLButtonElement>('play');
const stepBtn = $<HTMLButtonElement>('step');
for (const sel of policySel) for (const p of PAGE_POLICIES) sel.add(new Option(p, p));
for (const s of SPEEDS) speedSel.add(new Option(s === 'max' ? 'max' : `×${s}`, String(s)));
const parseSpeed = (v: string | null): Speed | null => {
  if (v === 'max') return 'max';
  const n = Number(v);
  return (SPEEDS as readonly unknown[]).includes(n) ? (n as Speed) : null;
};

// --- problems: every refused setting, visibly ---
let extraProblems: Array<{ key: string; value: string; message: string }> = [];
/** Bad view settings of the URL the page was opened with (speed, autoplay): shown until a setting is changed. */
let viewProblems: typeof extraProblems = [];
function showProblems(): void {
  const list = [...viewProblems, ...extraProblems, ...(built?.problems ?? [])];
  const el = $('problems');
  el.style.display = list.length ? 'block' : 'none';
  el.innerHTML = list.length
    ? `<b>Not applied</b> (the run uses the scenario's value instead):<ul>${list.map((p) => `<li><code>${escapeXml(p.key)}=${escapeXml(p.value)}</code>: ${escapeXml(p.message)}</li>`).join('')}</ul>`
    : '';
  document.querySelectorAll('#form label').forEach((l) => l.classList.toggle('bad', list.some((p) => p.key === (l as HTMLElement).dataset['for'])));
}

// --- the experiment ---
function entryOf(id: string | null): CatalogueEntry {
  return catalogue.find((e) => e.id === id && !e.error) ?? catalogue.find((e) => e.id === DEFAULT_SCENARIO) ?? catalogue[0]!;
}

function writeUrl(): void {
  const q = new URLSearchParams(params);
  q.set('speed', String(speed));
  if (!autoplay) q.set('autoplay', '0');
  history.replaceState(null, '', `?${q}`);
}

function policiesOf(doc: Record<string, unknown>): [string, string] {
  const g = (doc['guests'] as Array<Record<string, unknown>>)[0]!;
  const ps = g['policies'] as unknown[];
  return [policyShorthandOf(ps[0]), policyShorthandOf(ps[1])];
}

/** Validate the URL settings against the chosen scenario, refresh the controls, and (re)start the run. */
function configure(play: boolean, carry: typeof extraProblems = []): void {
  extraProblems = [...carry];
  const want = params.get('scenario');
  if (want !== null && !catalogue.some((e) => e.id === want && !e.error)) {
    extraProblems.push({ key: 'scenario', value: want, message: `expected one of ${catalogue.filter((e) => !e.error).map((e) => e.id).join(', ')}` });
    params.delete('scenario');
  }
  const seedKey = params.get('seed');
  const entry = entryOf(params.get('scenario'));
  try {
    built = buildExperiment(entry, params);
  } catch (e) {
    extraProblems.push({ key: 'scenario', value: entry.id, message: (e as Error).message });
    showProblems();
    return;
  }
  params = new URLSearchParams([...(params.get('scenario') ? [['scenario', params.get('scenario')!]] : []), ...built.params]);
  let doc = built.doc;
  if (imported) doc = withImported(doc, imported);
  writeUrl();
  scenarioSel.value = entry.id;
  const pols = policiesOf(doc);
  policySel.forEach((s, i) => (s.value = pols[i]!));
  seedInput.value = String(doc['seed'] ?? 1);
  if (seedKey !== null && !params.has('seed')) seedInput.value = seedKey;
  speedSel.value = String(speed);
  $('desc').textContent = `${entry.file}: ${String(entry.raw['description'] ?? '')}${imported ? ` Guest: ${imported.description}${imported.run ? ` of ${imported.run}` : ''} (not in the URL).` : ''}`;
  $('form').innerHTML = formHtml(doc, params, pols, imported !== null);
  const json = scenarioJson(docForFile(doc));
  $<HTMLTextAreaElement>('scenario-json').value = json;
  showProblems();
  reset(play, doc, `${entry.id}.json`);
}

/** The document with the dropped guest's zones and CPUs (its free state travels beside it, to the worker). */
function withImported(doc: Record<string, unknown>, imp: Imported): Record<string, unknown> {
  const out = structuredClone(doc);
  const g = (out['guests'] as Array<Record<string, unknown>>)[0]!;
  delete g['memMiB'];
  g['zones'] = imp.zones;
  g['cpus'] = imp.cpus;
  parseScenario(out, 'dropped data');
  return out;
}

/** What "copy as scenario JSON" gives: the document, saying what a file cannot hold. */
function docForFile(doc: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(doc);
  out['name'] = `${String(out['name'] ?? 'scenario')} (from the page)`;
  if (imported) {
    out['description'] = `${String(out['description'] ?? '')} The page started this guest from ${imported.description}; a scenario file cannot hold that state, so prsim run boots it fresh.`.trim();
  }
  return out;
}

function reset(play: boolean, doc: Record<string, unknown>, file: string): void {
  done = false;
  latest = null;
  setStatus('loading');
  send({ type: 'reset', doc, file, ...(imported ? { startState: imported.state } : {}), speed, play, view: null });
}

function setStatus(state: 'loading' | 'running' | 'paused' | 'done'): void {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = state === 'running' ? `running ${speed === 'max' ? 'max' : `×${speed}`}` : state;
  playBtn.textContent = state === 'running' ? 'Pause' : state === 'done' ? 'Replay' : 'Play';
  stepBtn.disabled = state === 'done' || state === 'loading';
}

// --- worker messages ---
function onReady(m: Extract<FromWorker, { type: 'ready' }>): void {
  gen = m.gen;
  infos = m.guests;
  durationS = m.durationMs / 1000;
  tracks = infos.map(newTrack);
  const g0 = infos[0]!;
  zoom = new MapZoom(g0.k0, g0.rows, g0.maxPfn);
  view = zoom.view();
  infos.forEach((g, i) => {
    $(`label-${i}`).textContent = g.name;
    const hint = g.kind === 'hinting';
    $(`reported-label-${i}`).textContent = hint ? 'hinted since boot (total)' : 'reported since boot (total)';
    $(`calls-label-${i}`).textContent = hint ? 'hint walks' : 'report() calls';
    $(`now-label-${i}`).textContent = hint ? 'free + Reported now (hinting sets no flag)' : 'free + Reported now';
  });
  $('map-scale').textContent = zoom.describe();
  $('map-scale-long').textContent = zoom.describe();
  for (const c of charts) c.svg = '';
}

function paramsText(g: GuestInfo, order: number): string {
  const guest = `${pagesText(g.managedPages)} managed, ${g.cpus} CPUs`;
  if (g.reporting) {
    const r = g.reporting;
    return `order ${order >= 0 && order < REPORTING_ORDER_OFF ? order : r.order} · capacity ${r.capacity} · delay ${r.delayMs} ms · budget ÷${r.budgetDivisor} · ${g.device} · ${guest}`;
  }
  if (g.hinting) return `hinting v13, ${g.hinting.use} · min order ${g.hinting.minOrder} · every ${g.hinting.intervalMs} ms · ${guest}`;
  return `no reporting · ${guest}`;
}

/** Every frame's arrival, kind and reporting states (read by the browser tests). */
const frameLog: Array<{ wall: number; tMs: number; reason: string; states: string[]; rssKib: number[]; holdMs: number; view: MapView }> = [];
(window as unknown as { __frames: typeof frameLog }).__frames = frameLog;

function onFrame(m: FrameMessage): void {
  if (m.gen !== gen) return;
  frames++;
  tMs = m.tMs;
  m.guests.forEach((g, i) => {
    const tr = tracks[i]!;
    const s = g.samples;
    for (let o = 0; o + SAMPLE_STRIDE <= s.length; o += SAMPLE_STRIDE) {
      tr.t.push(s[o + S.t]! / 1000);
      tr.rss.push(s[o + S.rssKib]! / 1024);
      tr.now.push(s[o + S.reportedNow]! / MiB_PAGES);
      tr.cum.push(s[o + S.pagesReported]! / MiB_PAGES);
    }
    tr.passes.push(...g.passes);
    tr.calls.push(...g.calls);
    tr.frame = g;
  });
  frameLog.push({ wall: performance.now(), tMs: m.tMs, reason: m.reason, states: m.guests.map((g) => g.state), rssKib: m.guests.map((g) => g.metrics.host.rssKib), holdMs: m.holdMs, view: m.view });
  if (frameLog.length > 2000) frameLog.splice(0, 1000);
  latest = m;
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
  const m = latest;
  if (!m) return;
  view = m.view;
  m.guests.forEach((g, i) => {
    drawMap($<HTMLCanvasElement>(`map-${i}`), g.map, m.view, infos[i]!.rows);
    figures(i, g);
    const st = $(`state-${i}`);
    st.dataset.state = g.state;
    st.textContent = g.state || (infos[i]!.kind === 'hinting' ? 'HINTING' : 'NO REPORTING');
    $(`params-${i}`).textContent = paramsText(infos[i]!, g.order);
  });
  compare(m.guests);
  legend();
  for (const c of charts) c.draw();
  lastPass();
  const time = $('time');
  time.dataset.t = String(tMs);
  time.textContent = `t = ${(tMs / 1000).toFixed(tMs % 100 ? 3 : 1)} s / ${durationS} s`;
  $('progress').style.width = `${(100 * tMs) / (durationS * 1000)}%`;
  setStatus(done ? 'done' : playing ? 'running' : 'paused');
  document.body.dataset.frames = String(frames);
  send({ type: 'ack', gen, seq: m.seq });
}

function compare(g: GuestFrame[]): void {
  const [a, b] = g.map((x) => x.metrics.host.rssKib / 1024);
  if (a === undefined || b === undefined) return;
  const d = b - a;
  const [na, nb] = infos.map((x) => x.name);
  $('compare').innerHTML = Math.abs(d) < 0.05
    ? `Host RSS now: A and B both hold <b>${a.toFixed(1)} MiB</b>`
    : `Host RSS now: B (${escapeXml(nb!)}) holds <b class="${d > 0 ? 'worse' : ''}">${Math.abs(d).toFixed(1)} MiB ${d < 0 ? 'less' : 'more'}</b> than A (${escapeXml(na!)})`;
}

function setFigure(id: string, value: number, text: string, unit = '', sub = ''): void {
  const el = $(id);
  el.dataset.value = String(value);
  // A space before the unit: on a narrow card the unit wraps under the number instead of running out of the card.
  el.innerHTML = text + (unit ? ` <small>${unit}</small>` : '') + (sub ? `<small class="sub">${sub}</small>` : '');
}

function pagesText(pages: number): string {
  const mib = pages / MiB_PAGES;
  return mib >= 1024 ? `${(mib / 1024).toFixed(2)} GiB` : `${mib.toFixed(mib >= 100 || mib === 0 ? 0 : 1)} MiB`;
}

function figures(i: number, g: GuestFrame): void {
  const m = g.metrics;
  const hint = infos[i]?.kind === 'hinting';
  const rssKib = m.host.rssKib;
  setFigure(`rss-${i}`, rssKib, (rssKib / 1024).toFixed(1), 'MiB');
  const free = g.freeReported.reduce((a, b) => a + b, 0) + g.freeUnreported.reduce((a, b) => a + b, 0);
  setFigure(`free-${i}`, free, (free / MiB_PAGES).toFixed(1), 'MiB');
  const now = g.pages[MapCode.REPORTED] ?? 0;
  setFigure(`reported-now-${i}`, now, (now / MiB_PAGES).toFixed(1), 'MiB');
  const reported = hint ? m.hinting?.pagesHinted ?? 0 : m.reporting.pagesReported;
  setFigure(`pages-reported-${i}`, reported, reported.toLocaleString('en-US'), 'pages', pagesText(reported));
  const calls = hint ? m.hinting?.walks ?? 0 : m.reporting.reportCalls;
  setFigure(`report-calls-${i}`, calls, calls.toLocaleString('en-US'), '', hint ? '' : `in ${m.reporting.passes} passes${m.reporting.reportErrors ? `, ${m.reporting.reportErrors} failed` : ''}`);
  const refaultPages = m.host.refaultPages;
  setFigure(`refaults-${i}`, refaultPages, (refaultPages / MiB_PAGES).toFixed(1), 'MiB');
}

function legend(): void {
  const head = `<tr><th>map colour</th>${infos.map((g, i) => `<th>${'AB'[i]} ${escapeXml(g.name)}</th>`).join('')}</tr>`;
  const rows = MAP_LEGEND.map((l) => `<tr data-code="${l.code}"><td><i class="sw" style="background:${swatchCss(l.color, l.alt)}"></i>${escapeXml(l.label)}</td>${tracks.map((tr) => {
    const pages = tr.frame?.pages[l.code] ?? 0;
    return `<td data-pages="${pages}">${pagesText(pages)}</td>`;
  }).join('')}</tr>`).join('');
  $('legend').innerHTML = head + rows;
}

function lastPass(): void {
  const parts = tracks.map((tr, i) => {
    const ps = timelinePasses(tr.passes, tr.calls);
    const p = ps[ps.length - 1];
    return p ? passText(`${'AB'[i]} ${infos[i]!.name}`, p) : '';
  }).filter(Boolean);
  $('last-pass').innerHTML = parts.length ? `Latest: ${parts.join('<br>')}` : 'No pass yet: reporting waits its delay after a free reaches the reporting order.';
}

// --- charts ---
let realCurve: Curve | null = null;
function marksOf(): Array<[number, string]> {
  const doc = built?.doc;
  const g = (doc?.['guests'] as Array<Record<string, unknown>> | undefined)?.[0];
  const ws = (g?.['workloads'] ?? []) as Array<Record<string, unknown>>;
  const out: Array<[number, string]> = ws.map((w) => [Number(w['startS'] ?? 0), String(w['kind'])]);
  // Phases the workloads report as they happen (memhog's free).
  for (const [k, v] of Object.entries(tracks[0]?.frame?.markers ?? {})) if (k.endsWith('.freeStart')) out.push([v / 1000, 'free']);
  return out;
}
const charts = pageCharts({
  tracks: () => tracks, infos: () => infos, durationS: () => durationS, nowS: () => tMs / 1000, real: () => realCurve, marks: marksOf,
}, (id) => $(id));
for (const c of charts) {
  c.fig.querySelectorAll<HTMLButtonElement>('button[data-save]').forEach((b) => b.addEventListener('click', async () => {
    const name = `prsim-${c.fig.dataset['chart']}`;
    if (b.dataset['save'] === 'svg') download(`${name}.svg`, new Blob([c.svg], { type: 'image/svg+xml' }));
    else download(`${name}.png`, await svgToPng(c.svg));
  }));
}

// --- the maps: hover, zoom, pan ---
const inspectSeq = [0, 0];
for (const i of [0, 1]) {
  const canvas = $<HTMLCanvasElement>(`map-${i}`);
  const info = $(`mapinfo-${i}`);
  let drag: { x: number; y: number } | null = null;
  canvas.addEventListener('mousemove', async (ev) => {
    if (drag) {
      const r = canvas.getBoundingClientRect();
      zoom.pan((ev.clientX - drag.x) / r.width, (ev.clientY - drag.y) / r.height);
      drag = { x: ev.clientX, y: ev.clientY };
      sendView();
      return;
    }
    const cell = cellAt(canvas, view, ev);
    const g = infos[i];
    const fr = tracks[i]?.frame;
    if (!cell || !g || !fr) return;
    const pfn = cellPfn(view, cell.row, cell.col);
    if (pfn >= g.maxPfn) return;
    const code = fr.map[cell.row * view.cols + cell.col] ?? MapCode.HOLE;
    const id = nextId++;
    inspectSeq[i] = id;
    const rep = await request<Extract<FromWorker, { type: 'inspect' }>>({ type: 'inspect', gen, guest: i, pfn, id });
    if (inspectSeq[i] !== id) return;
    info.innerHTML = mapInfoText(g, pfn, view.k, code, rep.state);
  });
  canvas.addEventListener('mouseleave', () => {
    drag = null;
    info.textContent = '';
  });
  canvas.addEventListener('mousedown', (ev) => {
    if (zoom.level > 0) drag = { x: ev.clientX, y: ev.clientY };
  });
  window.addEventListener('mouseup', () => (drag = null));
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const cell = cellAt(canvas, view, ev);
    if (zoom.zoom(ev.deltaY < 0 ? 1 : -1, cell?.fx ?? 0.5, cell?.fy ?? 0.5)) sendView();
  }, { passive: false });
}

function sendView(): void {
  view = zoom.view();
  $('map-scale').textContent = zoom.describe();
  send({ type: 'view', gen, view });
}

$('zoom-in').addEventListener('click', () => zoom.zoom(1) && sendView());
$('zoom-out').addEventListener('click', () => zoom.zoom(-1) && sendView());
$('zoom-fit').addEventListener('click', () => {
  zoom.fit();
  sendView();
});

// --- your own data ---
/** Read what was dropped or picked and build the guest from it; a file that cannot be read (a corrupt zip) is said. */
async function importDropped(read: () => Promise<Array<{ path: string; bytes: Uint8Array }>>): Promise<void> {
  const status = $('import-status');
  status.classList.remove('bad');
  status.textContent = 'reading…';
  let files: Array<{ path: string; bytes: Uint8Array }>;
  try {
    files = await read();
  } catch (e) {
    onImported({ type: 'imported', id: 0, ok: false, message: (e as Error).message });
    return;
  }
  status.textContent = `reading ${files.length} file${files.length === 1 ? '' : 's'}…`;
  onImported(await request<Extract<FromWorker, { type: 'imported' }>>({ type: 'import', id: nextId++, files }));
}

function onImported(m: Extract<FromWorker, { type: 'imported' }>): void {
  const status = $('import-status');
  if (!m.ok) {
    status.classList.add('bad');
    status.textContent = `Could not build a guest from that: ${m.message}`;
    return;
  }
  imported = m.imported;
  realCurve = imported.real ?? null;
  status.textContent = `Built the guest from ${imported.description}${imported.run ? ` of ${imported.run}` : ''}: ${imported.state.free.length.toLocaleString('en-US')} free blocks. Both policies now start from it.`;
  const pre = $('imported-buddyinfo');
  pre.hidden = false;
  pre.textContent = imported.buddyinfo;
  $('clear-import').hidden = false;
  if (imported.memhog) {
    // A memhog run: the workload at the run's own times and rates, on the snapshot's clock.
    const entry = entryOf(params.get('scenario'));
    const w = ((entry.raw['guests'] as Array<Record<string, unknown>>)[0]?.['workloads'] as Array<Record<string, unknown>> | undefined)?.[0];
    if (w?.['kind'] === 'memhog') {
      const mh = imported.memhog;
      for (const [k, v] of Object.entries({ startS: mh.startS, mib: mh.mib, rateMiBps: mh.rateMiBps, holdS: mh.holdS, freeRateMiBps: mh.freeRateMiBps })) params.set(`w0.${k}`, String(v));
      params.set('duration', String(mh.durationS));
    }
  }
  configure(autoplay);
}

const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const dt = ev.dataTransfer;
  if (dt) await importDropped(() => filesFromDrop(dt));
});
for (const id of ['pick-files', 'pick-folder']) {
  const el = $<HTMLInputElement>(id);
  el.addEventListener('change', async () => {
    const list = el.files;
    if (list?.length) await importDropped(() => filesFromInput(list));
    el.value = '';
  });
}
$('clear-import').addEventListener('click', () => {
  imported = null;
  realCurve = null;
  $('imported-buddyinfo').hidden = true;
  $('clear-import').hidden = true;
  $('import-status').textContent = '';
  configure(playing);
});

// --- exports ---
function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function exportData(): Promise<ExportData> {
  return (await request<Extract<FromWorker, { type: 'export' }>>({ type: 'export', gen, id: nextId++ })).data;
}

const baseName = () => `prsim-${scenarioSel.value}-${infos.map((g) => g.name.replace(/\W+/g, '_')).join('-vs-')}`;
$('export-csv').addEventListener('click', async () => {
  const d = await exportData();
  download(`${baseName()}.csv`, new Blob([timeSeriesCsv(d.result)], { type: 'text/csv' }));
});
$('export-json').addEventListener('click', async () => {
  const d = await exportData();
  const doc = built ? docForFile(built.doc) : null;
  const body = { scenario: doc?.['name'], file: `${scenarioSel.value}.json`, summaries: d.summaries, result: d.result,
    page: { scenarioDocument: doc, tMs, reportedNowPages: d.reportedNow, passes: d.passes, reportCalls: d.calls, ...(imported ? { startedFrom: imported.description } : {}) } };
  download(`${baseName()}.json`, new Blob([JSON.stringify(body) + '\n'], { type: 'application/json' }));
});
$('export-html').addEventListener('click', async () => {
  const d = await exportData();
  const doc = built ? docForFile(built.doc) : {};
  const html = htmlReport({
    title: String(doc['name'] ?? 'page-reporting-sim'), file: `${scenarioSel.value}.json`, result: d.result, summaries: d.summaries,
    ...(doc['description'] ? { description: String(doc['description']) } : {}),
    extra: {
      reportedNow: d.reportedNow,
      freeSplit: tracks.map((tr) => ({ reported: tr.frame?.freeReported ?? [], unreported: tr.frame?.freeUnreported ?? [] })),
      ...(realCurve ? { real: realCurve } : {}),
    },
  });
  download(`${baseName()}.html`, new Blob([html], { type: 'text/html' }));
});

async function copyJson(): Promise<void> {
  const ta = $<HTMLTextAreaElement>('scenario-json');
  ta.hidden = false;
  ta.select();
  let how = 'shown below';
  try {
    await navigator.clipboard.writeText(ta.value);
    how = 'copied to the clipboard, and shown below';
  } catch { /* no clipboard permission: the text is shown to copy by hand */ }
  $('copy-status').textContent = `Scenario JSON ${how}: save it and run prsim run <file> for the same figures.`;
}
$('copy-json').addEventListener('click', () => void copyJson());
$('save-json').addEventListener('click', () => download(`${scenarioSel.value}-page.json`, new Blob([$<HTMLTextAreaElement>('scenario-json').value], { type: 'application/json' })));

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
    case 'inspect': case 'export': case 'imported':
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
      break;
    case 'error':
      extraProblems.push({ key: 'run', value: '', message: `the simulation stopped: ${m.message}` });
      showProblems();
      playing = false;
      setStatus('paused');
      break;
  }
};
worker.onerror = (ev) => {
  extraProblems.push({ key: 'worker', value: '', message: ev.message || 'the worker failed' });
  showProblems();
};

function togglePlay(): void {
  if (done) return configure(true);
  send({ type: playing ? 'pause' : 'play' });
}
playBtn.addEventListener('click', togglePlay);
stepBtn.addEventListener('click', () => send({ type: 'step' }));
$('reset').addEventListener('click', () => configure(playing));
speedSel.addEventListener('change', () => {
  speed = parseSpeed(speedSel.value) ?? 5;
  writeUrl();
  send({ type: 'speed', speed });
});

/**
 * A setting changed: write it into the URL and start again. A value the schema refuses is named, and the value
 * in force before stays (a typed -5 does not reset the seed to the scenario's).
 */
function setParam(key: string, value: string): void {
  viewProblems = [];
  const prev = params.get(key);
  if (value === '') params.delete(key);
  else params.set(key, value);
  let carry: typeof extraProblems = [];
  try {
    const trial = buildExperiment(entryOf(params.get('scenario')), params);
    carry = trial.problems.filter((p) => p.key === key);
  } catch { /* configure() shows it */ }
  if (carry.length) {
    if (prev === null) params.delete(key);
    else params.set(key, prev);
    carry = carry.map((p) => ({ ...p, message: `${p.message}; kept ${prev === null ? 'the scenario\'s value' : prev}` }));
  }
  configure(playing || done, carry);
}
scenarioSel.addEventListener('change', () => {
  for (const k of [...params.keys()]) if (/^w\d+\./.test(k) || k === 'duration') params.delete(k);
  setParam('scenario', scenarioSel.value);
});
policySel.forEach((s, i) => s.addEventListener('change', () => {
  const key = i ? 'b' : 'a';
  for (const k of [...params.keys()]) if (k.startsWith(`${key}.`)) params.delete(k);
  setParam(key, s.value);
}));
seedInput.addEventListener('change', () => setParam('seed', seedInput.value.trim()));
$('form').addEventListener('change', (ev) => {
  const el = ev.target as HTMLInputElement | HTMLSelectElement;
  const key = el.dataset['key'];
  // Another device kind: the old kind's parameter no longer applies.
  if (key === 'device') for (const p of Object.values(DEVICE_PARAMS)) params.delete(`device.${p.field}`);
  if (key) setParam(key, el.value.trim());
});
document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.target instanceof HTMLTextAreaElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === ' ') { ev.preventDefault(); togglePlay(); }
  else if (ev.key === '.') send({ type: 'step' });
  else if (ev.key === 'r') configure(playing);
  else if (ev.key === '+' || ev.key === '=') { if (zoom.zoom(1)) sendView(); }
  else if (ev.key === '-') { if (zoom.zoom(-1)) sendView(); }
  else if (ev.key === '0') { zoom.fit(); sendView(); }
});

/** The catalogue: every scenarios/*.json the build copied beside the page, validated by the CLI's schema. */
async function loadCatalogue(): Promise<CatalogueEntry[]> {
  const names = (await (await fetch('scenarios/index.json')).json()) as string[];
  return Promise.all(names.map(async (file) => {
    const raw = (await (await fetch(`scenarios/${file}`)).json()) as Record<string, unknown>;
    const entry: CatalogueEntry = { id: file.replace(/\.json$/, ''), file: `scenarios/${file}`, raw };
    try {
      parseScenario(raw, entry.file);
    } catch (e) {
      entry.error = (e as Error).message;
    }
    return entry;
  }));
}

speed = parseSpeed(params.get('speed')) ?? 5;
if (params.get('speed') !== null && parseSpeed(params.get('speed')) === null) {
  viewProblems.push({ key: 'speed', value: params.get('speed')!, message: `expected one of ${SPEEDS.join(', ')}; runs at ${speed}` });
}
if (!['0', '1', null].includes(params.get('autoplay'))) {
  viewProblems.push({ key: 'autoplay', value: params.get('autoplay')!, message: 'expected 0 or 1; plays' });
}
params.delete('speed');
params.delete('autoplay');
loadCatalogue().then((c) => {
  catalogue = c;
  for (const e of c) {
    const option = new Option(e.error ? `${e.id} (invalid)` : e.id, e.id, false, false);
    option.disabled = Boolean(e.error);
    scenarioSel.add(option);
  }
  if (!params.get('a') && !params.get('b') && !params.get('scenario')) {
    params.set('a', DEFAULT_POLICIES[0]);
    params.set('b', DEFAULT_POLICIES[1]);
  }
  configure(autoplay);
}).catch((e) => {
  extraProblems.push({ key: 'scenarios', value: '', message: `could not load the scenario catalogue: ${(e as Error).message}` });
  showProblems();
});

