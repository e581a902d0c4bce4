// The command line's error policy, case by case: bad input and anything the system refuses exit 2 with one
// `prsim:` line naming the file, field or path; outputs are checked before the run and written whole or not at
// all; a reader that goes away ends the run quietly with 0; a fresh checkout says what to build.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, systemError } from '../src/cli/prsim.js';
import { memoryIo } from '../src/cli/io.js';
import { commitOutput, prepareOutputs } from '../src/cli/output.js';
import { parseScenario } from '../src/scenario/load.js';
import { Simulation } from '../src/sim/engine.js';
import { ROOT, bundleCli, smallScenario } from './cli.helpers.js';
import { prsimWith } from './helpers/in-process.js';
import { REAL, haveReal } from './helpers/shared.js';

let tmp: string;
const file = (name: string, content: string | object) => {
  const p = join(tmp, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
/** A 2 s run of one small guest: quick enough to run many times. */
const tiny = () => ({ durationS: 2, seed: 3, guests: [{ memMiB: 64, policy: 'linux-6.1', workloads: [{ kind: 'memhog', startS: 0.2, mib: 8, holdS: 0.2 }] }] });

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'prsim-bad-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const prsim = (...argv: string[]) => prsimWith(memoryIo(tmp), argv);

/** Exit 2, nothing on stdout, exactly one `prsim:` line, and no run happened. */
async function refused(argv: string[], message: RegExp | string) {
  const r = await prsim(...argv);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]!.startsWith('prsim: ')).toBe(true);
  if (typeof message === 'string') expect(lines[0]).toBe(message);
  else expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/simulated guest-seconds|internal error|at .*\.ts:\d+/);
  return r;
}

const tempLeft = (dir: string) => readdirSync(dir).filter((f) => f.includes('.prsim-'));

describe('scenario values', () => {
  it('a UTF-8 byte order mark before valid JSON is accepted', async () => {
    const p = file('bom.json', `\uFEFF${JSON.stringify(tiny())}`);
    const r = await prsim('run', p);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^small|bom\.json/m);
  });

  it('a scenario read from /dev/zero (or any file past 64 MiB) is refused after 64 MiB, not read until memory runs out', async () => {
    if (existsSync('/dev/zero')) await refused(['run', '/dev/zero'], 'prsim: /dev/zero: larger than 64 MiB: not a scenario file');
    const big = join(tmp, 'big.json');
    writeFileSync(big, `{"name": "${'x'.repeat(64 * 2 ** 20)}"}`);
    await refused(['run', big], `prsim: ${big}: larger than 64 MiB: not a scenario file`);
    rmSync(big);
  });

  it('memMiB 512.001 is not a whole number of pages', async () => {
    const p = file('frac.json', { ...tiny(), guests: [{ memMiB: 512.001, policy: 'none' }] });
    await refused(['run', p], `prsim: ${p}: guests[0].memMiB: expected a whole number of 4 KiB pages (a multiple of 1/256 MiB, e.g. 512 or 512.25), got 512.001`);
    const quarter = file('quarter.json', { ...tiny(), guests: [{ memMiB: 64.25, policy: 'none' }] });
    expect((await prsim('run', quarter)).code).toBe(0);
  });

  it('durationS 1e400 says what it is (it used to say "got null")', async () => {
    const p = file('huge.json', JSON.stringify(tiny()).replace('"durationS":2', '"durationS":1e400'));
    await refused(['run', p], `prsim: ${p}: durationS: expected a number > 0, got Infinity (a number beyond the largest double, 1.8e308)`);
  });

  it('durationS 1e12 (a 148 s run to a heap OOM) and sampleMs 0.001 (hung at 2.2 GB) are refused up front with the estimate', async () => {
    const p = file('long.json', { ...tiny(), durationS: 1e12 });
    await refused(['run', p], new RegExp(`^prsim: ${p}: the run needs about .* of JS heap \\(2\\.0e\\+13 samples for 1 guest: durationS 1000000000000 / sampleMs 50, .*\\); the limit is .* \\(3/4 of the JS heap limit\\): raise sampleMs or shorten durationS$`));
    await refused(['run', file('t.json', tiny()), '--duration', '1e12'], /the run needs about .* of JS heap/);
    const fine = file('fine.json', { ...tiny(), durationS: 40, sampleMs: 0.001 });
    await refused(['run', fine], /sampleMs 0\.001/);
  });

  it('a scenario nested 100,000 levels deep is refused, not a stack overflow', async () => {
    await refused(['run', file('deep1.json', `${'['.repeat(100000)}${']'.repeat(100000)}`)], /nested more than 64 levels deep/);
    await refused(['run', file('deep2.json', `${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}`)], /nested more than 64 levels deep/);
    const sweep = { ...tiny(), sweep: { seed: [JSON.parse(`${'['.repeat(200)}${']'.repeat(200)}`)] } };
    await refused(['sweep', file('deep3.json', sweep)], /nested more than 64 levels deep/);
  });

  it('a sweep grid too large to count is refused before anything runs (any countable grid streams)', async () => {
    // 60 parameters of 2 values: 2^60 points.
    const keys = Array.from({ length: 60 }, (_, i) => `durationS${i}`);
    const grid = { ...tiny(), sweep: Object.fromEntries(keys.map((k) => [k, [1, 2]])) };
    await refused(['sweep', file('grid.json', grid)], /more than 9007199254740991 can be counted/);
  });

  it('hinting stepMs is in the schema (the README documents it) and reaches the walker', () => {
    const raw = { ...tiny(), guests: [{ memMiB: 64, policy: { kind: 'hinting', stepMs: 0.5 } }] };
    const { spec } = parseScenario(raw, 'h.json');
    const sim = new Simulation(spec);
    expect(sim.guests[0]!.hinting!.opts.stepMs).toBe(0.5);
    expect(() => parseScenario({ ...raw, guests: [{ memMiB: 64, policy: { kind: 'hinting', stepMs: -1 } }] }, 'h.json')).toThrow('h.json: guests[0].policy.stepMs: expected a number >= 0, got -1');
  });
});

describe('options', () => {
  it('--seed -1 gets the option\'s own message, not Node\'s "ambiguous"', async () => {
    await refused(['run', file('s.json', tiny()), '--seed', '-1'], "prsim: --seed: expected integer 0..4294967295, got '-1'");
    await refused(['run', file('s.json', tiny()), '--duration', '-5'], "prsim: --duration: expected a number > 0, got '-5'");
  });

  it('--duration takes decimal numbers only (0x10 ran 16 s while --seed 0x10 was refused); --policies has no empty names', async () => {
    for (const d of ['0x10', '0b11', '0o7', 'Infinity', '1e400', '1,5']) await refused(['run', file('s.json', tiny()), '--duration', d], `prsim: --duration: expected a number > 0, got '${d}'`);
    await refused(['compare', file('c.json', tiny()), '--policies', ',none'], "prsim: --policies: an empty name in ',none' (a stray comma?)");
    await refused(['compare', file('c.json', tiny()), '--policies', 'none,,linux-6.1'], "prsim: --policies: an empty name in 'none,,linux-6.1' (a stray comma?)");
    const ok = await prsim('run', file('s.json', tiny()), '--duration', '1.5e0', '--threads', '0');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/1\.5 s simulated/);
  });

  it('compare --policies none,none is refused', async () => {
    await refused(['compare', file('c.json', tiny()), '--policies', 'none,none'], "prsim: --policies: 'none' is given twice; name each policy once");
  });

  it('bench --only w9 and --only \'\' are refused instead of running nothing or everything', async () => {
    await refused(['bench', '--only', 'w9'], "prsim: bench: --only: expected a comma-separated list of w1, w2, w3, sweep, got 'w9' ('w9' is not a workload)");
    await refused(['bench', '--only', ''], "prsim: bench: --only: expected a comma-separated list of w1, w2, w3, sweep, got ''");
  });
});

describe('output files', () => {
  const scenario = () => file('o.json', tiny());

  it('a missing folder, a directory, /proc or an unwritable place is refused before the run', async () => {
    await refused(['run', scenario(), '--csv', join(tmp, 'no/such/dir/x.csv')], /--csv .*no\/such\/dir\/x\.csv: cannot write in .*no\/such\/dir: no such directory$/);
    await refused(['run', scenario(), '--html', tmp], /--html .*: is a directory, expected a file name$/);
    await refused(['run', scenario(), '--csv', '/proc/x'], "prsim: --csv /proc/x: cannot write in /proc: new files cannot be created there");
    const notDir = file('plain.txt', 'x');
    await refused(['run', scenario(), '--csv', join(notDir, 'x.csv')], /--csv .*plain\.txt\/x\.csv: a part of the path is not a directory$/);
    expect(tempLeft(tmp)).toEqual([]);
  });

  it('an output that is an input, or two outputs that are one file, are refused', async () => {
    const s = scenario();
    await refused(['run', s, '--csv', s], `prsim: --csv ${s}: is an input of this run (${s}); writing it would destroy it`);
    expect(JSON.parse(readFileSync(s, 'utf8'))).toEqual(tiny());
    await refused(['run', s, '--csv', join(tmp, 'a.out'), '--html', join(tmp, 'a.out')], /--html .*a\.out: the same file as --csv/);
  });

  it('an output is replaced whole: the old file stays when the run fails, no temporary file is left', async () => {
    const out = file('series.csv', 'old content\n');
    chmodSync(out, 0o640);
    await refused(['run', file('bad.json', { ...tiny(), durationS: -1 }), '--csv', out], /durationS: expected a number > 0/);
    expect(readFileSync(out, 'utf8')).toBe('old content\n');
    const ok = await prsim('run', scenario(), '--csv', out);
    expect(ok.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^t_s,/);
    expect(statSync(out).mode & 0o777).toBe(0o640);
    expect(tempLeft(tmp)).toEqual([]);
  });

  it('a full disk: the old file stays whole and no partial file is left (a 64 KiB tmpfs, when the tests may mount one)', async () => {
    if (existsSync('/dev/full')) {
      // A device is written in place (never renamed over); the failure comes after the run, as on a full disk.
      const r = await prsim('run', scenario(), '--csv', '/dev/full');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('prsim: --csv /dev/full: no space left on the device\n');
    }
    const dir = mkdtempSync(join(tmp, 'full-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) return;
    try {
      const out = join(dir, 'series.csv');
      writeFileSync(out, 'old content\n');
      // The memhog scenario's time series is about 700 KB: it cannot fit.
      const r = await prsim('run', join(ROOT, 'scenarios/memhog.json'), '--csv', out);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`prsim: --csv ${out}: not written (no space left on the device); the old file, if any, is unchanged\n`);
      expect(readFileSync(out, 'utf8')).toBe('old content\n');
      expect(readdirSync(dir)).toEqual(['series.csv']);
    } finally {
      spawnSync('umount', [dir]);
    }
  });

  it('sweep --output/--csv: checked before the run, never the scenario, a file of the sweep\'s folder or each other', async () => {
    const raw = { ...tiny(), durationS: 1, guests: [{ memMiB: 64, policy: { kind: 'reporting', profile: 'linux-6.1' } }], sweep: { 'policy.order': [0, 9] } };
    const s = file('sw.json', raw);
    const text = readFileSync(s, 'utf8');
    await refused(['sweep', s, '--threads', '0', '--output', s], `prsim: --output ${s}: is an input of this run (${s}); writing it would destroy it`);
    await refused(['sweep', s, '--threads', '0', '--csv', s], `prsim: --csv ${s}: is an input of this run (${s}); writing it would destroy it`);
    expect(readFileSync(s, 'utf8')).toBe(text);
    await refused(['sweep', s, '--threads', '0', '--output', join(tmp, 'same.out'), '--csv', join(tmp, 'same.out')], /--csv .*same\.out: the same file as --output/);
    await refused(['sweep', s, '--threads', '0', '--output', tmp], /--output .*: is a directory, expected a file name$/);
    await refused(['sweep', s, '--threads', '0', '--output', '/proc/x'], 'prsim: --output /proc/x: cannot write in /proc: new files cannot be created there');
    // Refused before the run: no sweep ran, so no rows file was made in --out.
    const dir = join(tmp, 'sweep-out');
    await refused(['sweep', s, '--threads', '0', '--out', dir, '--output', join(dir, 'scenario.json')], /--output .*sweep-out\/scenario\.json: is a file of the sweep's folder/);
    expect(existsSync(dir)).toBe(false);
    const ok = await prsim('sweep', s, '--threads', '0', '--out', dir);
    expect(ok.code, ok.stderr).toBe(0);
    const rows = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    const before = readFileSync(join(dir, rows), 'utf8');
    await refused(['sweep', '--merge', dir, '--output', join(dir, rows)], /is a file of the sweep's folder/);
    await refused(['sweep', '--merge', dir, '--csv', join(dir, 'sweep.json')], /is a file of the sweep's folder/);
    expect(readFileSync(join(dir, rows), 'utf8')).toBe(before);
    const merged = await prsim('sweep', '--merge', dir, '--csv', join(dir, 'merged.csv'), '--output', join(dir, 'merged.txt'));
    expect(merged.code, merged.stderr).toBe(0);
    expect(readFileSync(join(dir, 'merged.csv'), 'utf8')).toMatch(/^point,policy\.order,/);
    expect(readFileSync(join(dir, 'merged.txt'), 'utf8')).toMatch(/2 grid points/);
    expect(tempLeft(tmp)).toEqual([]);
    expect(tempLeft(dir)).toEqual([]);
  });

  it.skipIf(!haveReal('E5_trace256'))('replay --reports-csv onto a file of the run folder (its reports.csv) is refused', async () => {
    const run = join(tmp, 'E5');
    cpSync(REAL + 'E5_trace256', run, { recursive: true });
    const real = readFileSync(join(run, 'reports.csv'), 'utf8');
    await refused(['replay', run, '--reports-csv', join(run, 'reports.csv')], /--reports-csv .*E5\/reports\.csv: is an input of this run/);
    await refused(['replay', run, '--reports-csv', join(run, 'guest', 'dmesg.txt')], /--reports-csv .*E5\/guest\/dmesg\.txt: is an input of this run/);
    expect(readFileSync(join(run, 'reports.csv'), 'utf8')).toBe(real);
    expect(tempLeft(run)).toEqual([]);
  });

  it('a write that fails after the run leaves the old file as it was and removes the temporary file', () => {
    const dir = mkdtempSync(join(tmp, 'w-'));
    const target = join(dir, 'report.html');
    const [out] = prepareOutputs([{ flag: '--html', given: target }], [], dir);
    expect(tempLeft(dir)).toHaveLength(1);
    // Something takes the target's place meanwhile (here a directory, so the rename must fail).
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'kept');
    expect(() => commitOutput(out!, '<html>')).toThrow(/--html .*report\.html: not written \(.*\); the old file, if any, is unchanged/);
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('kept');
    expect(tempLeft(dir)).toEqual([]);
  });
});

describe('files and the system', () => {
  it('replay of a file (ENOTDIR) and import of an empty folder are exit 2 naming the path', async () => {
    const f = file('r.json', tiny());
    await refused(['replay', f], /^prsim: replay: .*r\.json: not a directory/);
    const empty = mkdtempSync(join(tmp, 'empty-'));
    await refused(['import', empty], /^prsim: .*empty-\w+: not a run folder: it holds none of guest\//);
  });

  it.skipIf(!haveReal('E2_memhog512_r1'))('import --tag where nothing uses it (the summary, one file) is refused, not ignored', async () => {
    const run = REAL + 'E2_memhog512_r1';
    await refused(['import', run, '--tag', 'bogus'], 'prsim: import: --tag bogus: picks the snapshot of --format buddyinfo, zones or state; the summary lists every snapshot');
    await refused(['import', run + '/guest/end.buddyinfo', '--tag', 'held'], /^prsim: import: --tag held: picks a snapshot of a run folder; .*end\.buddyinfo is one file$/);
    await refused(['import', run, '--format', 'buddyinfo', '--tag', 'bogus'], /has no bogus\.buddyinfo \(snapshots: /);
    const ok = await prsim('import', run, '--format', 'buddyinfo', '--tag', 'held');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Node 0, zone +DMA /);
  });

  it('an unreadable file is exit 2 naming it (as root every file is readable: the mapping is checked directly)', async () => {
    expect(systemError(Object.assign(new Error('EACCES: permission denied, open \'/x/s.json\''), { code: 'EACCES', syscall: 'open', path: '/x/s.json' }))).toBe('/x/s.json: permission denied');
    expect(systemError(Object.assign(new Error('x'), { code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 80 }))).toBe('127.0.0.1:80: address already in use (pick another port)');
    expect(systemError(Object.assign(new TypeError('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBeNull();
    if (process.getuid?.() === 0) return;
    const p = file('secret.json', tiny());
    chmodSync(p, 0);
    await refused(['run', p], /secret\.json: permission denied/);
  });

  it('prsim web on a port in use, or on a host that does not resolve, is exit 2', async () => {
    const dir = mkdtempSync(join(tmp, 'web-'));
    for (const f of ['index.html', 'main.js', 'worker.js']) writeFileSync(join(dir, f), '');
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const port = (busy.address() as { port: number }).port;
    try {
      const io = memoryIo(tmp);
      expect(await main(['web', '--port', String(port), '--dir', dir], io)).toBe(2);
      expect(io.stderr).toMatch(new RegExp(`^prsim: web: port ${port} on 127\\.0\\.0\\.1 is in use; pick another with --port`));
    } finally {
      busy.close();
    }
    const r = await main(['web', '--host', '999.1.1.1', '--dir', dir], memoryIo(tmp)).then((c) => c);
    expect(r).toBe(2);
  });
});

describe('processes', () => {
  let cli: string;
  beforeAll(async () => {
    cli = (await bundleCli()).cli;
  });
  afterAll(() => rmSync(dirname(cli), { recursive: true, force: true }));

  it('prsim run | head -1: the pipe closes, prsim exits 0 without a stack trace', async () => {
    const p = file('pipe.json', smallScenario());
    const child = spawn(process.execPath, [cli, 'run', p, '--format', 'json', '--threads', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((ok) => child.on('exit', ok));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
  });

  it('as a user who may not read or write there: an unreadable scenario, an unwritable folder (exit 2)', () => {
    const asNobody = process.getuid?.() === 0 && spawnSync('runuser', ['--help']).status === 0;
    const dir = mkdtempSync(join(tmp, 'perm-'));
    for (const d of [tmp, dir, dirname(cli)]) chmodSync(d, 0o755);
    const secret = join(dir, 'secret.json');
    writeFileSync(secret, JSON.stringify(tiny()), { mode: 0o600 });
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    const open = join(dir, 'open.json');
    writeFileSync(open, JSON.stringify(tiny()), { mode: 0o644 });
    const run = (...args: string[]) => asNobody
      ? spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, cli, ...args], { encoding: 'utf8' })
      : spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    if (!asNobody && process.getuid?.() === 0) return; // root without runuser: every file is readable
    const r1 = run('run', secret);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toBe(`prsim: ${secret}: permission denied (the file cannot be read)\n`);
    const r2 = run('run', open, '--csv', join(ro, 'x.csv'));
    expect(r2.status).toBe(2);
    expect(r2.stderr).toBe(`prsim: --csv ${join(ro, 'x.csv')}: cannot write in ${ro}: permission denied\n`);
    // A file everyone may read imports as that user too (a real one when the runs are beside the checkout).
    const readable = haveReal('E2_memhog512_r1') ? REAL + 'E2_memhog512_r1/guest/pre.zoneinfo' : open;
    const r3 = run(...(readable === open ? ['run', open, '--duration', '1'] : ['import', readable]));
    expect(r3.status).toBe(0);
  });

  it('a checkout without dist/ says what to run (bin/prsim.js), exit 2', () => {
    const pkg = mkdtempSync(join(tmp, 'pkg-'));
    mkdirSync(join(pkg, 'bin'));
    copyFileSync(join(ROOT, 'bin/prsim.js'), join(pkg, 'bin/prsim.js'));
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}');
    const r = spawnSync(process.execPath, [join(pkg, 'bin/prsim.js'), 'run'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`prsim: ${join(pkg, 'dist/cli.js')} is missing: build it with 'npm run build' in ${pkg}/\n`);
    expect(existsSync(join(pkg, 'dist'))).toBe(false);
  });

  it('npm install builds dist/ (the prepare script), so a fresh clone has a working prsim', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts['prepare']).toBe('npm run build');
    expect(scripts['build']).toMatch(/scripts\/build\.mjs/);
  });
});

describe('found by the fuzz suite', () => {
  it('a churn that keeps no pages (targetFraction 0) runs instead of failing on its empty list', async () => {
    const raw = { ...tiny(), guests: [{ memMiB: 64, policy: 'linux-6.1', workloads: [{ kind: 'churn', startS: 0.1, durationS: 1, opsPerS: 5000, targetFraction: 0 }] }] };
    const r = await prsim('run', file('churn0.json', raw), '--threads', '0');
    expect(r.code, r.stderr).toBe(0);
  });
});
