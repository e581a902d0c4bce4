// prsim sweep <scenario>: run the scenario's `sweep` grid on every core and print one row per grid point.
import { parseScenario, readScenarioFile } from '../scenario/load.js';
import { runSweep } from '../sim/sweep.js';
import { sweepCsv } from '../report/csv.js';
import { sweepTable } from '../report/table.js';
import { choiceOption, intOption, parse, positiveOption } from './args.js';
import type { Io } from './io.js';
import { applyOverrides } from './overrides.js';
import { commitOutput, discardOutputs, prepareOutputs } from './output.js';
import { ProgressBar } from './progress.js';
import { resolveScenario } from './scenario-arg.js';
import { UsageError } from './usage-error.js';

export const SWEEP_USAGE = `usage: prsim sweep <scenario> [options]

Run every point of the scenario's "sweep" grid, e.g.
  "sweep": { "policy.order": [0, 5, 9], "policy.capacity": [16, 32], "guest.memMiB": [1024, 2048] }
in parallel (one worker thread per core) and print one row per grid point.

options:
  --format table|json|csv   stdout: the table (default), the rows as JSON, or as CSV
  --json                    same as --format json
  --csv <file>              write the rows as CSV
  --seed <n>                override the scenario's seed
  --duration <s>            override the simulated duration
  --threads <n>             worker threads (default: every core; 0 runs in this thread)
`;

export async function sweepCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('sweep', args, {
    format: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'string' },
    seed: { type: 'string' },
    duration: { type: 'string' },
    threads: { type: 'string' },
  }, 1);
  if (v.help) {
    io.out(SWEEP_USAGE);
    return 0;
  }
  if (!positionals[0]) throw new UsageError('sweep: which scenario? (e.g. prsim sweep scenarios/sweep-order.json)');
  const format = v.json ? 'json' : choiceOption('format', v.format, ['table', 'json', 'csv'] as const) ?? 'table';
  const threads = intOption('threads', v.threads, 0, 1024);
  const overrides = { seed: intOption('seed', v.seed, 0, 2 ** 32 - 1), durationS: positiveOption('duration', v.duration) };

  const { path, file } = resolveScenario(positionals[0], io.cwd);
  const raw = applyOverrides(readScenarioFile(path, file), overrides);
  const loaded = { file, raw, ...parseScenario(raw, file) };
  const outputs = prepareOutputs([{ flag: '--csv', given: v.csv }], [path], io.cwd);
  try {
    const bar = new ProgressBar(io, `sweep ${loaded.scenario.name ?? file}`);
    const table = await runSweep(loaded, { ...(threads !== undefined ? { threads } : {}), onProgress: (f) => bar.update(f) });
    bar.done();

    if (format === 'json') io.out(JSON.stringify(table) + '\n');
    else if (format === 'csv') io.out(sweepCsv(table));
    else {
      io.out(`${loaded.scenario.name ?? file}: ${table.points} grid points over ${table.parameters.join(' × ')} (${file})\n\n`);
      io.out(sweepTable(table));
    }
    if (outputs[0]) {
      commitOutput(outputs[0], sweepCsv(table));
      io.err(`prsim: wrote ${outputs[0].given}\n`);
    }
    io.err(`prsim: ${table.rows.length} runs in ${(table.wallMs / 1000).toFixed(2)} s wall\n`);
    return 0;
  } finally {
    discardOutputs(outputs);
  }
}
