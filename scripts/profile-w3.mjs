// Where W3 scaled spends its time: runs it (64 GiB guest, 48 GiB memhog, 60 simulated s) under V8's sampling
// profiler (the one `node --cpu-prof` uses) and sums the samples by part of the simulator. Usage (after `npm run build`):
//   node scripts/profile-w3.mjs [--root <checkout>] [--runs N]
// --root profiles another checkout's build (its dist/index.js and assembly/); --runs N runs it N times in one
// process (the first run maps the guest's memory in; later ones reuse it) and reports the last run alone.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string', default: '.' }, runs: { type: 'string', default: '1' } } });
const root = resolve(values.root);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'prsim-prof-'));

// The release module's function names, by index (the embedded module is built with the same flags, no names).
execFileSync(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), 'assembly/index.ts', '--target', 'release',
  '-o', join(dir, 'r.wasm'), '--textFile', join(dir, 'r.wat')], { cwd: root, stdio: 'ignore' });
const names = readFileSync(join(dir, 'r.wat'), 'utf8').split('\n').filter((l) => l.startsWith(' (func ')).map((l) => l.split(' ')[2]);

// The child profiles its last run alone, with the inspector's sampling profiler (what --cpu-prof uses).
const runner = `
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
const m = await import(${JSON.stringify(join(root, 'dist/index.js'))});
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
const spec = { durationS: 60, sampleMs: 100, seed: 1, guests: [{ guest: { profile: 'linux-6.1', memBytes: 64 * 2 ** 30, cpus: 2, pcp: true },
  policy: { kind: 'reporting', profile: 'linux-6.1' }, device: { kind: 'virtio-balloon' }, host: { backing: 'thp' },
  workloads: [{ kind: 'memhog', startS: 10, mib: 48 * 1024, rateMiBps: 8192, freeRateMiBps: 16384, holdS: 3 }] }] };
for (let i = 0; i < ${runs}; i++) {
  if (i === ${runs} - 1) await session.post('Profiler.start');
  const r = await m.simulate(spec);
  console.log(JSON.stringify({ run: i, wallMs: r.wallMs, mops: r.pageOps / r.wallMs / 1000 }));
}
const { profile } = await session.post('Profiler.stop');
writeFileSync(${JSON.stringify(join(dir, 'last.cpuprofile'))}, JSON.stringify(profile));`;
const r = spawnSync(process.execPath, ['--input-type=module', '-e', runner], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);
const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
const last = lines[lines.length - 1];
const prof = JSON.parse(readFileSync(join(dir, 'last.cpuprofile'), 'utf8'));

const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + prof.timeDeltas[i]));

const WASM = [
  ['wasm: boot and setup', /initMemory|fillWords|allWordsAre|releaseRange|bootFreeRange|\/setup$|markHole|populate/],
  ['wasm: allocation (refills, splits, per-cpu lists)', /alloc|rmqueue|tryZone|expand|hostTouch/i],
  ['wasm: free (per-cpu lists, bulk frees, merges)', /free|Free|merge|BuddyRun/],
  ['wasm: reporting (cycle, isolation, drain) and host discard', /report|isolate|putback|hostDiscard/i],
  ['wasm: sampling', /sampleCounters/],
];
const JS = [
  ['TypeScript: workloads (memhog, pfn lists, batch calls)', /^(allocMany|freeMany|pushAll|push|reserve|resize|touch|faultPages|entriesFor|orderAt|free|allocPageTable|freePageTables|allocBulk|freeBulk|freeBulkOwned|bulkView|get bulkCapacity|Memhog|start)$/],
  ['TypeScript: WasmGuest argument checks', /^check[A-Z]\w*$/],
  ['TypeScript: scenario validation (zod) and set-up', /_zod|^normalizeDef$|^resolveGuest$|^resolveSpec$/],
  ['TypeScript: reporting worker', /^(account|markReported|popcount32|resume|runPass|processZone|batch|finish|fire|startPass|endPass|poll|register|reportBatch\w*|reportCycle\w*|reportDrain|transition)$/],
  ['TypeScript: host model and device', /^(handleReport|report|latencyMs|discard|ramRssKib|hostRssPages)$/],
  ['TypeScript: engine and clock', /^(run|step|schedule|peek|pending|dropCancelled|less|push|pop|runUntil|every|simulate|result|Simulation|GuestRun|markers|takeNotifications|poll)$/],
  ['TypeScript: sampling', /^(sample)$/],
];
const byCat = new Map();
let total = 0;
for (const [id, us] of self) {
  const cf = nodes.get(id).callFrame;
  let name = cf.functionName || '(anonymous)';
  let cat;
  const w = /^wasm-function\[(\d+)\]$/.exec(name);
  if (w) {
    name = names[Number(w[1])] ?? name;
    cat = (WASM.find(([, re]) => re.test(name)) ?? ['wasm: other'])[0];
  } else if (name === '(garbage collector)') cat = 'garbage collector';
  else if (/Wasm|js-to-wasm|wasm-to-js/.test(name)) cat = 'calls between JS and wasm';
  else if (name === '(program)' || name === '(idle)') cat = 'V8 and the process (other)';
  else if (/^(dispatch|Socket|onStreamRead|emit)$/.test(name)) cat = 'the profiler itself';
  else cat = (JS.find(([, re]) => re.test(name)) ?? ['TypeScript: other'])[0];
  byCat.set(cat, (byCat.get(cat) ?? 0) + us);
  if (process.env.PROFILE_NAMES) console.error(cat, name, (us / 1000).toFixed(1));
  total += us;
}
console.log(`W3 scaled, ${root}: run ${last.run + 1} of ${runs}: ${last.wallMs.toFixed(0)} ms wall, ${last.mops.toFixed(1)} M page ops per wall s (runs: ${lines.map((l) => l.wallMs.toFixed(0)).join(', ')} ms)`);
for (const [cat, us] of [...byCat].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(5)} ms  ${cat}`);
}
