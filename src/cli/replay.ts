// prsim replay <run folder> [--mode forced|modelled|workload] [--delay <ms>|trace] [--order N] [--capacity N]
// [--flush trace|on|off] [--json] [--reports-csv FILE]: replay a recorded run on the simulator and print the real
// run and the simulator side by side, in one format whatever the run (src/replay/format.ts); prsim fidelity [dir]:
// every run folder of dir held to tolerance. The replay itself is src/replay/folder.ts.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SimError } from '../core/errors.js';
import { replay, fidelityRows, type ReplayFolderOptions } from '../replay/folder.js';
import { reportsCsv } from '../replay/format.js';
import { formatComparison, formatFidelity } from '../replay/text.js';
import { parse } from './args.js';
import type { Io } from './io.js';
import { commitOutput, discardOutputs, folderInputs, prepareOutputs } from './output.js';
import { UsageError } from './usage-error.js';

export const REPLAY_USAGE = `usage: prsim replay <run folder> [--mode forced|modelled|workload] [--delay <ms>|trace] [--order N] [--capacity N] [--flush trace|on|off] [--json] [--reports-csv FILE]

Replay a recorded run folder (as in ../shared/real-kernel) on the simulator and print the real run and the
simulator side by side. A run with a kmem trace and a kpageflags dump inside it is replayed event by event
(forced, or modelled through the simulator's per-cpu lists); any other run is simulated from its recorded
state with the workload its recording describes (workload).

options:
  --mode forced|modelled|workload   how to replay (default: forced for a traced run, else workload)
  --delay <ms>|trace                a traced run's reporting delay, or each pass when the real one started (default)
  --order N, --capacity N           a traced run's allocator traffic under another order (0..11 as the run's kernel
                                    takes it: 11 reports nothing on 5.7 and 6.1) or capacity (1..256)
  --flush trace|on|off              a workload replay: flush the freeing cpu's per-cpu lists after a free as recorded
                                    (default), always, never
  --json                            the comparison as JSON
  --reports-csv FILE                also write the simulator's reports in reports.csv's format
`;

export const FIDELITY_USAGE = `usage: prsim fidelity [folder of run folders, default ../shared/real-kernel] [--json] [--tolerance S]

Replay every run folder and hold each to tolerance: after the (last) free, the same passes and report() calls
as the real kernel and the RSS fall reaching 50% and 90% within S seconds (default 0.15) of the real times; an
idle boot is held to its boot-time reporting.
`;

/** A bad value: the command's name, what was wrong, where to look. */
const usage = (command: string, msg: string) => new UsageError(`${command}: ${msg} (see prsim ${command} --help)`);

/** The replay's own refusals (a run without a trace asked for a trace mode...) are named as the command's. */
function asCommand<T>(command: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SimError) throw new SimError(e.code, `${command}: ${e.message}`, e.details);
    throw e;
  }
}

function replayOptions(v: Record<string, string | boolean | undefined>, dir: string): ReplayFolderOptions {
  const o: ReplayFolderOptions = { dir, delay: 'trace', flush: 'trace' };
  const mode = v['mode'] as string | undefined;
  if (mode !== undefined) {
    if (mode !== 'forced' && mode !== 'modelled' && mode !== 'workload') throw usage('replay', `--mode must be forced, modelled or workload, got '${mode}'`);
    o.mode = mode;
  }
  const delay = v['delay'] as string | undefined;
  if (delay !== undefined) {
    if (delay === 'trace') o.delay = 'trace';
    else if (/^\d+(\.\d+)?$/.test(delay)) o.delay = Number(delay);
    else throw usage('replay', `--delay must be milliseconds or 'trace', got '${delay}'`);
  }
  for (const [name, lo, hi] of [['order', 0, 11], ['capacity', 1, 256]] as const) {
    const text = v[name] as string | undefined;
    if (text === undefined) continue;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < lo || n > hi) throw usage('replay', `--${name} must be an integer ${lo}..${hi}, got '${text}'`);
    o[name] = n;
  }
  const flush = v['flush'] as string | undefined;
  if (flush !== undefined) {
    if (flush !== 'trace' && flush !== 'on' && flush !== 'off') throw usage('replay', `--flush must be trace, on or off, got '${flush}'`);
    o.flush = flush === 'trace' ? 'trace' : flush === 'on';
  }
  return o;
}

export async function replayCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('replay', args, {
    mode: { type: 'string' }, delay: { type: 'string' }, order: { type: 'string' }, capacity: { type: 'string' },
    flush: { type: 'string' }, json: { type: 'boolean' }, 'reports-csv': { type: 'string' },
  }, 1);
  if (v.help) {
    io.out(REPLAY_USAGE);
    return 0;
  }
  if (positionals[0] === undefined) throw usage('replay', 'no run folder given');
  const o = replayOptions(v, resolve(io.cwd, positionals[0]));
  if (!existsSync(o.dir) || !statSync(o.dir).isDirectory()) {
    throw usage('replay', `${o.dir}: ${existsSync(o.dir) ? 'not a directory' : 'no such folder'} (a run folder as in ../shared/real-kernel)`);
  }
  const given = v['reports-csv'];
  if (given !== undefined) {
    const folder = dirname(resolve(io.cwd, given));
    if (!existsSync(folder) || !statSync(folder).isDirectory()) throw usage('replay', `--reports-csv ${resolve(io.cwd, given)}: no folder ${folder}`);
  }
  // Checked, with its temporary file made, before the replay; written whole or not at all.
  // Any file of the run folder is an input (reports.csv above all): the replay reads them, so none is written over.
  const outputs = prepareOutputs([{ flag: '--reports-csv', given }], folderInputs(o.dir), io.cwd);
  try {
    const c = asCommand('replay', () => replay(o));
    if (outputs[0]) commitOutput(outputs[0], reportsCsv(c.sim, c.clockOffset));
    io.out(`${v.json ? JSON.stringify(c, null, 1) : formatComparison(c)}\n`);
    return 0;
  } finally {
    discardOutputs(outputs);
  }
}

export async function fidelityCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('fidelity', args, { json: { type: 'boolean' }, tolerance: { type: 'string' } }, 1);
  if (v.help) {
    io.out(FIDELITY_USAGE);
    return 0;
  }
  let tol = 0.15;
  if (v.tolerance !== undefined) {
    tol = Number(v.tolerance);
    if (!(tol > 0) || !Number.isFinite(tol)) throw usage('fidelity', `--tolerance must be seconds > 0, got '${v.tolerance}'`);
  }
  const root = resolve(io.cwd, positionals[0] ?? '../shared/real-kernel');
  if (!existsSync(root) || !statSync(root).isDirectory()) throw usage('fidelity', `${root}: no such folder`);
  const rows = asCommand('fidelity', () => fidelityRows(root, tol));
  io.out(`${v.json ? JSON.stringify(rows, null, 1) : formatFidelity(rows, tol)}\n`);
  return 0;
}
