// prsim sweep: run a scenario's `sweep` grid (streamed into a folder of rows, resumable, one shard of it if
// asked), merge a folder of shards, or write the launcher of a sharded sweep for Slurm or Kubernetes.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { readScenarioFile } from '../scenario/load.js';
import { k8sManifests } from '../sweep/emit-k8s.js';
import { SLURM_DEFAULT_MAX_ARRAY_SIZE, slurmFiles } from '../sweep/emit-slurm.js';
import { writeFileAtomic } from '../sweep/files.js';
import { isSweepFile, prepareFolder, sweepDef, type SweepDef } from '../sweep/folder.js';
import { duplicateNote, indexFolder, rowsInOrder } from '../sweep/merge.js';
import { SweepOutput, type Sink, type SweepFormat } from '../sweep/output.js';
import { runSweepToFolder, type SweepProgress } from '../sweep/run.js';
import { parseShard, shardFileName } from '../sweep/shard.js';
import { choiceOption, intOption, parse, positiveOption } from './args.js';
import { processIo, type Io } from './io.js';
import { applyOverrides } from './overrides.js';
import { commitOutput, discardOutputs, folderInputs, prepareOutputs, writeOutputPart, type Output } from './output.js';
import { ProgressBar } from './progress.js';
import { resolveScenario } from './scenario-arg.js';
import { UsageError } from './usage-error.js';

export const SWEEP_USAGE = `usage: prsim sweep <scenario> [options]
       prsim sweep --merge <dir> [--json | --format csv | --csv <file>] [--output <file>]
       prsim sweep <scenario> --emit slurm|k8s --shards <n> --out <dir> [launcher options]

Run every point of the scenario's "sweep" grid, e.g.
  "sweep": { "policy.order": [0, 5, 9], "policy.capacity": [16, 32], "guest.memMiB": [1024, 2048] }
on every core. Each point's row is written the moment it finishes, as a line of JSON in
<dir>/rows-K-of-N.jsonl (--out <dir>; without it, a temporary folder removed at the end); the table,
JSON and CSV outputs are made from the rows in point order. A killed sweep keeps its rows: run it again
with --resume. Past 100 lines the table becomes the fleet view (distributions per policy).

output:
  --format table|json|csv   stdout: the table (default), the rows as JSON, or as CSV
  --json                    same as --format json
  --csv <file>              also write the rows as CSV (one line per point and guest, every figure)
  --output <file>           write stdout's output to <file> instead (the file appears whole or not at all)
  --per-guest               the full table, one line per point and guest, however many
rows, shards and merging:
  --out <dir>               keep the rows in <dir> (JSON Lines), with scenario.json and sweep.json
  --resume                  skip the points already in <dir>; a last line cut short by a crash is redone
  --shard K/N               run only the points with index % N == K (K from 0); needs --out
  --shard auto/N            K from SLURM_ARRAY_TASK_ID (Slurm job array) or JOB_COMPLETION_INDEX
                            (Kubernetes Indexed Job)
  --merge <dir>             merge the rows files of <dir> into the output of the unsharded sweep; names
                            any missing point (exit 2) and any point found twice
launchers (write files into --out <dir> and print how to start them; nothing runs here):
  --emit slurm              sweep.sbatch (a job array, one shard per task), merge.sbatch, submit.sh
  --emit k8s                k8s-sweep.yaml (ConfigMap + Indexed Job), k8s-merge.yaml (the merge Job)
  --shards <n>              how many shards (array tasks, completion indexes)
  --parallelism <n>         shards running at once (default: all)
  --cpus-per-task <n>       cores per shard, each a worker thread (default 1)
  --prsim <command>         prsim on the nodes (slurm default: this node and this cli.js; k8s: prsim)
  --sbatch=<option>         slurm: an extra #SBATCH option, repeatable (--sbatch=--partition=batch)
  --image <image>           k8s: the container image, with prsim on its PATH
  --pvc <claim>             k8s: the PersistentVolumeClaim that holds the sweep folder (ReadWriteMany)
  --namespace <ns>          k8s: the namespace of the objects
run:
  --seed <n>                override the scenario's seed
  --duration <s>            override the simulated duration
  --threads <n>             worker threads (default: every core; 0 runs in this thread)
`;

const duration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

/** "1,234/16,000 points  12.3/s  5m20s left" for the progress bar. */
function progressNote(p: SweepProgress, startedMs: number): string {
  const ran = p.done - p.resumed;
  const elapsed = performance.now() - startedMs;
  const rate = ran / Math.max(elapsed / 1000, 1e-3);
  const left = rate > 0 ? `${duration(((p.total - p.done) / rate) * 1000)} left` : '';
  return `${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} points  ${rate < 10 ? rate.toFixed(2) : Math.round(rate).toLocaleString('en-US')}/s  ${left}`;
}

/**
 * stdout as a sink that can be waited on: a pipe takes the output only as fast as its reader does, and without
 * waiting for it every row would pile up in memory. A reader that went away (EPIPE: `| head`) ends the output.
 */
function stdoutSink(io: Io): Sink & { wait(): Promise<void> | null; closed: boolean } {
  if (io !== processIo) return { write: (t) => io.out(t), wait: () => null, closed: false };
  const sink = {
    closed: false,
    write: (t: string) => { if (!sink.closed) process.stdout.write(t); },
    wait: (): Promise<void> | null => (process.stdout.writableNeedDrain && !sink.closed ? new Promise((r) => process.stdout.once('drain', r)) : null),
  };
  process.stdout.once('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    sink.closed = true;
    process.stdout.emit('drain');
  });
  return sink;
}

/** Write the folder's rows as the sweep's output, to stdout (or --output) and --csv, both checked beforehand. */
async function writeOutput(dir: string, io: Io, format: SweepFormat, files: { csv?: Output | undefined; output?: Output | undefined }, perGuest: boolean): Promise<{ rows: number; def: SweepDef }> {
  const idx = indexFolder(dir);
  const note = duplicateNote(idx);
  if (note) io.err(`prsim: ${dir}: ${note}\n`);
  // Every point has its row, but a copy of some shard stopped mid-row: worth knowing, not worth refusing.
  if (idx.cutShort.length) io.err(`prsim: ${dir}: ${idx.cutShort.join(', ')} ${idx.cutShort.length === 1 ? 'ends' : 'end'} in a line cut short (a shard stopped while writing it; ignored, as every point has a row)\n`);
  const stdout = stdoutSink(io);
  const sink = (o: Output): Sink => ({ write: (t) => writeOutputPart(o, t) });
  const csv = files.csv ? sink(files.csv) : undefined;
  const output = new SweepOutput(idx.def, { format, out: files.output ? sink(files.output) : stdout, ...(csv ? { csv } : {}), perGuest });
  for (const { text, row } of rowsInOrder(idx)) {
    output.add(text, row);
    const drained = stdout.wait();
    if (drained) await drained;
    if (stdout.closed && !csv) break;
  }
  output.end();
  for (const o of [files.output, files.csv]) {
    if (!o) continue;
    commitOutput(o, '');
    io.err(`prsim: wrote ${o.given}\n`);
  }
  return { rows: idx.rows, def: idx.def };
}

/**
 * The files of a sweep's folder the sweep reads: its definition and rows. Not the rest (an earlier merge's
 * merged.json is an output, written again when a merge is run again, as a launcher's retried merge job does).
 */
function sweepFolderInputs(dir: string): string[] {
  return folderInputs(dir, 1).filter((f) => isSweepFile(basename(f)));
}

/**
 * --output and --csv, checked (and their temporary files made) before anything runs: neither may be the
 * scenario, a file of the sweep's folder, or the other.
 */
function sweepOutputs(v: { output?: string | undefined; csv?: string | undefined }, inputs: string[], folder: string | undefined, cwd: string): { output?: Output; csv?: Output; all: Output[] } {
  for (const [flag, given] of [['--output', v.output], ['--csv', v.csv]] as const) {
    if (given === undefined || folder === undefined) continue;
    const path = resolve(cwd, given);
    if (dirname(path) === folder && isSweepFile(basename(path))) {
      throw new UsageError(`${flag} ${given}: is a file of the sweep's folder ${folder}; writing it would destroy the sweep's rows or definition`);
    }
  }
  const all = prepareOutputs([{ flag: '--output', given: v.output }, { flag: '--csv', given: v.csv }], inputs, cwd);
  const output = all.find((o) => o.flag === '--output');
  const csv = all.find((o) => o.flag === '--csv');
  return { ...(output ? { output } : {}), ...(csv ? { csv } : {}), all };
}

function defaultPrsim(kind: 'slurm' | 'k8s'): string[] {
  const script = process.argv[1];
  if (kind === 'slurm' && script && /\.(m?js)$/.test(script)) return [process.execPath, resolve(script)];
  return ['prsim'];
}

function emit(kind: 'slurm' | 'k8s', def: SweepDef, dir: string, io: Io, v: Record<string, string | boolean | string[] | undefined>): number {
  const shards = intOption('shards', v['shards'] as string | undefined, 1, 1_000_000);
  if (shards === undefined) throw new UsageError(`sweep --emit ${kind}: how many shards? (--shards N)`);
  const parallelism = intOption('parallelism', v['parallelism'] as string | undefined, 1, 1_000_000);
  const cpusPerTask = intOption('cpus-per-task', v['cpus-per-task'] as string | undefined, 1, 1024) ?? 1;
  const prsimText = v['prsim'] as string | undefined;
  const prsim = prsimText !== undefined ? prsimText.trim().split(/\s+/).filter(Boolean) : defaultPrsim(kind);
  if (!prsim.length) throw new UsageError(`--prsim: expected a command, got '${prsimText}'`);
  // Everything is checked before anything is written.
  let files: Array<[string, string, boolean]>;
  let next: string;
  if (kind === 'slurm') {
    const f = slurmFiles(def, { dir, shards, cpusPerTask, prsim, ...(parallelism !== undefined ? { parallelism } : {}), sbatch: (v['sbatch'] as string[] | undefined) ?? [] });
    files = [['sweep.sbatch', f['sweep.sbatch'], true], ['merge.sbatch', f['merge.sbatch'], true], ['submit.sh', f['submit.sh'], true]];
    next = `submit the ${shards}-task array and the merge after it:\n  sh ${join(dir, 'submit.sh')}\n` +
      `or by hand:\n  jid=$(sbatch --parsable ${join(dir, 'sweep.sbatch')})\n  sbatch --dependency=afterok:\${jid%%;*} ${join(dir, 'merge.sbatch')}\n` +
      `the merged rows land in ${join(dir, 'merged.json')} and merged.csv; prsim sweep --merge ${dir} prints the table\n`;
  } else {
    const image = v['image'] as string | undefined;
    const claim = v['pvc'] as string | undefined;
    if (!image) throw new UsageError('sweep --emit k8s: which container image? (--image REGISTRY/prsim:TAG, with prsim on its PATH)');
    if (!claim) throw new UsageError('sweep --emit k8s: which volume holds the rows? (--pvc CLAIM, a PersistentVolumeClaim every pod can mount)');
    const namespace = v['namespace'] as string | undefined;
    const m = k8sManifests(def, { shards, cpusPerTask, image, claim, prsim, ...(parallelism !== undefined ? { parallelism } : {}), ...(namespace ? { namespace } : {}) });
    files = [['k8s-sweep.yaml', m.sweep, false], ['k8s-merge.yaml', m.merge, false]];
    const ns = namespace ? ` -n ${namespace}` : '';
    next = `run the ${shards} shards, wait for them, then merge:\n` +
      `  kubectl${ns} apply -f ${join(dir, 'k8s-sweep.yaml')}\n` +
      `  kubectl${ns} wait --for=condition=complete --timeout=24h job/${m.name}\n` +
      `  kubectl${ns} apply -f ${join(dir, 'k8s-merge.yaml')}\n` +
      `  kubectl${ns} wait --for=condition=complete --timeout=1h job/${m.name}-merge\n` +
      `the merged rows land in ${m.folder}/merged.json and merged.csv on the volume ${claim}\n`;
  }
  if (kind === 'slurm' && shards > SLURM_DEFAULT_MAX_ARRAY_SIZE) {
    io.err(`prsim: --shards ${shards}: an array of indexes 0-${shards - 1} passes Slurm's default MaxArraySize (${SLURM_DEFAULT_MAX_ARRAY_SIZE}), and sbatch refuses it unless the cluster raised it (scontrol show config | grep MaxArraySize); at most ${SLURM_DEFAULT_MAX_ARRAY_SIZE} shards fit the default\n`);
  }
  if (shards > def.points) io.err(`prsim: ${shards} shards for ${def.points} grid points: ${shards - def.points} shards will have nothing to run\n`);
  prepareFolder(dir, def);
  for (const [name, text, exec] of files) {
    writeFileAtomic(join(dir, name), text);
    if (exec) chmodSync(join(dir, name), 0o755);
  }
  io.out(`wrote ${files.map(([name]) => join(dir, name)).join(', ')}\n\n${next}`);
  return 0;
}

/** The launcher's own flags. */
const EMIT_FLAGS = ['shards', 'image', 'pvc', 'namespace', 'prsim', 'sbatch', 'parallelism', 'cpus-per-task'] as const;

/** Refuse the first of `flags` given with `mode`, saying why it does not apply. */
function refuse(v: Record<string, unknown>, mode: string, flags: readonly string[], why: string): void {
  const given = flags.find((k) => v[k] !== undefined);
  if (given !== undefined) throw new UsageError(`${mode}: --${given} does not apply (${why})`);
}

export async function sweepCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('sweep', args, {
    format: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'string' },
    output: { type: 'string' },
    'per-guest': { type: 'boolean' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    shard: { type: 'string' },
    merge: { type: 'string' },
    emit: { type: 'string' },
    shards: { type: 'string' },
    parallelism: { type: 'string' },
    'cpus-per-task': { type: 'string' },
    prsim: { type: 'string' },
    sbatch: { type: 'string', multiple: true },
    image: { type: 'string' },
    pvc: { type: 'string' },
    namespace: { type: 'string' },
    seed: { type: 'string' },
    duration: { type: 'string' },
    threads: { type: 'string' },
  }, 1);
  if (v.help) {
    io.out(SWEEP_USAGE);
    return 0;
  }
  // An empty path (`--out "$DIR"` with DIR unset) would read as no flag: rows in a folder removed at the end.
  for (const [k, what] of [['out', 'folder'], ['merge', 'folder'], ['csv', 'file name'], ['output', 'file name']] as const) {
    if (v[k] === '') throw new UsageError(`--${k}: expected a ${what}, got ''`);
  }
  const format = v.json ? 'json' : choiceOption('format', v.format, ['table', 'json', 'csv'] as const) ?? 'table';
  const perGuest = v['per-guest'] ?? false;

  if (v.merge !== undefined) {
    if (positionals[0]) throw new UsageError(`sweep --merge ${v.merge}: takes no scenario (the folder holds its own)`);
    // A flag that means nothing to a merge is refused, not dropped: --seed or --resume would otherwise seem to
    // have been applied.
    refuse(v, 'sweep --merge', ['out', 'resume', 'shard', 'emit', ...EMIT_FLAGS, 'seed', 'duration', 'threads'],
      'merge prints the rows the folder holds; run or resume a shard with prsim sweep <scenario> --out DIR');
    const dir = resolve(io.cwd, v.merge);
    const t0 = performance.now();
    const files = sweepOutputs(v, sweepFolderInputs(dir), dir, io.cwd);
    try {
      const { rows, def } = await writeOutput(dir, io, format, files, perGuest);
      io.err(`prsim: merged ${rows.toLocaleString('en-US')} rows of ${def.points.toLocaleString('en-US')} points in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
      return 0;
    } finally {
      discardOutputs(files.all);
    }
  }

  if (!positionals[0]) throw new UsageError('sweep: which scenario? (e.g. prsim sweep scenarios/sweep-order.json)');
  const threads = intOption('threads', v.threads, 0, 1024);
  const overrides = { seed: intOption('seed', v.seed, 0, 2 ** 32 - 1), durationS: positiveOption('duration', v.duration) };
  const { path, file } = resolveScenario(positionals[0], io.cwd);
  const raw = applyOverrides(readScenarioFile(path, file), overrides);
  const def = sweepDef(file, raw);

  if (v.emit !== undefined) {
    const kind = choiceOption('emit', v.emit, ['slurm', 'k8s'] as const)!;
    refuse(v, `sweep --emit ${kind}`, ['resume', 'shard', 'format', 'json', 'csv', 'output', 'per-guest'],
      'the launcher runs every shard with --resume and merges into merged.json and merged.csv');
    refuse(v, `sweep --emit ${kind}`, ['threads'], 'each shard runs --cpus-per-task worker threads');
    refuse(v, `sweep --emit ${kind}`, kind === 'slurm' ? ['image', 'pvc', 'namespace'] : ['sbatch'], `that flag is for --emit ${kind === 'slurm' ? 'k8s' : 'slurm'}`);
    if (!v.out) throw new UsageError(`sweep --emit ${kind}: which folder? (--out DIR: the launcher, the scenario and later the rows go there)`);
    return emit(kind, def, resolve(io.cwd, v.out), io, v);
  }
  for (const k of EMIT_FLAGS) {
    if (v[k] !== undefined) throw new UsageError(`--${k} is for --emit slurm|k8s`);
  }

  const shard = v.shard !== undefined ? parseShard(v.shard) : undefined;
  if (shard && !v.out) throw new UsageError('--shard: where do the rows go? (--out DIR, a folder every shard can reach; merge it with --merge DIR)');
  if (shard && (v.json || v.format || v.csv || v.output || v['per-guest'])) {
    throw new UsageError('--shard writes only its rows to --out; print or save the results with prsim sweep --merge DIR once every shard is done');
  }
  if (v.resume && !v.out) throw new UsageError('--resume: which folder? (--out DIR of the sweep to continue)');

  const out = v.out ? resolve(io.cwd, v.out) : undefined;
  const files = sweepOutputs(v, [path, ...(out ? sweepFolderInputs(out) : [])], out, io.cwd);
  const dir = out ?? mkdtempSync(join(tmpdir(), 'prsim-sweep-'));
  try {
    const started = performance.now();
    const label = `sweep ${def.name ?? file}${shard && shard.n > 1 ? ` shard ${shard.k}/${shard.n}` : ''}`;
    const bar = new ProgressBar(io, label);
    const r = await runSweepToFolder(def, {
      out: dir, resume: v.resume ?? false, ...(shard ? { shard } : {}), ...(threads !== undefined ? { threads } : {}),
      onOpen: (f) => {
        if (f.truncatedLine !== null) io.err(`prsim: ${f.rowsFile}: line ${f.truncatedLine} was cut short (a crash while it was written): dropped, its point runs again\n`);
      },
      onProgress: (p) => bar.update(p.fraction, progressNote(p, started)),
    });
    bar.done();
    const rate = r.ran / Math.max(r.wallMs / 1000, 1e-3);
    const resumed = r.resumed ? `, ${r.resumed.toLocaleString('en-US')} already done` : '';
    const summary = `${r.ran.toLocaleString('en-US')} points (${r.runs.toLocaleString('en-US')} runs) in ${(r.wallMs / 1000).toFixed(2)} s wall, ${rate.toFixed(2)} points/s${resumed}`;
    if (shard && shard.n > 1) {
      io.err(`prsim: shard ${shard.k}/${shard.n}: ${summary}; rows in ${join(dir, shardFileName(shard))} (prsim sweep --merge ${dir} once every shard is done)\n`);
      return 0;
    }
    await writeOutput(dir, io, format, files, perGuest);
    io.err(`prsim: ${summary}\n`);
    return 0;
  } finally {
    discardOutputs(files.all);
    if (!v.out) rmSync(dir, { recursive: true, force: true });
  }
}
