// prsim run [scenario] and prsim compare [scenario] --policies a,b,c: simulate a scenario and print the policies
// side by side (or JSON, CSV, /proc/buddyinfo text), optionally writing a CSV time series and an HTML report.
import { DEFAULT_COMPARE } from '../schema/policies.js';
import { parseScenario, readScenarioFile } from '../scenario/load.js';
import { runScenarioSpec } from '../sweep/pool.js';
import { endStateBuddyinfo } from '../report/buddyinfo.js';
import { timeSeriesCsv } from '../report/csv.js';
import { htmlReport } from '../report/html.js';
import { comparisonTable } from '../report/table.js';
import { choiceOption, intOption, parse, positiveOption } from './args.js';
import type { Io } from './io.js';
import { applyOverrides, parsePolicies } from './overrides.js';
import { commitOutput, discardOutputs, prepareOutputs } from './output.js';
import { runFleetView, TABLE_MAX_GUESTS } from '../report/fleet.js';
import { ProgressBar } from './progress.js';
import { resolveScenario } from './scenario-arg.js';

const FORMATS = ['table', 'json', 'csv', 'buddyinfo'] as const;

export const RUN_USAGE = `usage: prsim run [scenario] [options]
       prsim compare [scenario] [--policies none,linux-5.7,linux-6.1,hinting] [options]

Simulate a scenario (default scenarios/memhog.json; a bare name means scenarios/<name>.json) and print
the guests side by side. compare replaces every guest's policy by the --policies list (default: the four
above) so they run on the same guest and workload.

options:
  --format table|json|csv|buddyinfo   stdout: the comparison table (default), the full result as JSON,
                                      the time series as CSV, or each guest's end state as /proc/buddyinfo
  --json                              same as --format json
  --csv <file>                        write the time series (t, per-guest RSS, free, reported...)
  --html <file>                       write a self-contained HTML report with plots
  --policies <list>                   policies to compare (none, linux-5.7, linux-6.1, linux-next, hinting)
  --seed <n>                          override the scenario's seed
  --duration <s>                      override the simulated duration
  --threads <n>                       worker threads (default: every core; 0 runs in this thread)
  --per-guest                         one column per guest however many (past ${TABLE_MAX_GUESTS} guests the table
                                      is the fleet view: distributions per policy, host total over time)
`;

export async function runCommand(args: string[], io: Io, mode: 'run' | 'compare'): Promise<number> {
  const { values: v, positionals } = parse(mode, args, {
    format: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'string' },
    'per-guest': { type: 'boolean' },
    html: { type: 'string' },
    policies: { type: 'string' },
    seed: { type: 'string' },
    duration: { type: 'string' },
    threads: { type: 'string' },
  }, 1);
  if (v.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  const format = v.json ? 'json' : choiceOption('format', v.format, FORMATS) ?? 'table';
  const policies = parsePolicies(v.policies) ?? (mode === 'compare' ? [...DEFAULT_COMPARE] : undefined);
  const overrides = { seed: intOption('seed', v.seed, 0, 2 ** 32 - 1), durationS: positiveOption('duration', v.duration), policies };
  const threads = intOption('threads', v.threads, 0, 1024);

  const { path, file } = resolveScenario(positionals[0], io.cwd);
  const raw = applyOverrides(readScenarioFile(path, file), overrides);
  const { scenario, spec } = parseScenario(raw, file);

  // Outputs are checked (and their temporary files made) before the run, not found unwritable after it.
  const outputs = prepareOutputs([{ flag: '--csv', given: v.csv }, { flag: '--html', given: v.html }], [path], io.cwd);
  const [csvOut, htmlOut] = [outputs.find((o) => o.flag === '--csv'), outputs.find((o) => o.flag === '--html')];
  try {
    if (scenario.sweep) io.err(`prsim: ${file} has a sweep grid; this runs its base point (prsim sweep ${file} runs the grid)\n`);
    const bar = new ProgressBar(io, `${scenario.name ?? file}`);
    const { result, summaries } = await runScenarioSpec(spec, { ...(threads !== undefined ? { threads } : {}), onProgress: (f) => bar.update(f) });
    bar.done();

    const title = scenario.name ?? file;
    if (format === 'json') io.out(JSON.stringify({ scenario: title, file, summaries, result }) + '\n');
    else if (format === 'csv') io.out(timeSeriesCsv(result));
    else if (format === 'buddyinfo') io.out(endStateBuddyinfo(result.guests));
    else {
      io.out(`${title}: ${spec.durationS} s simulated, seed ${result.seed}, ${result.guests.length} guest${result.guests.length === 1 ? '' : 's'} (${file})\n\n`);
      io.out(summaries.length > TABLE_MAX_GUESTS && !v['per-guest'] ? runFleetView(result, summaries) : comparisonTable(summaries));
    }
    if (csvOut) {
      commitOutput(csvOut, timeSeriesCsv(result));
      io.err(`prsim: wrote ${csvOut.given}\n`);
    }
    if (htmlOut) {
      const input = { title, file, result, summaries, ...(scenario.description ? { description: scenario.description } : {}) };
      commitOutput(htmlOut, htmlReport(input));
      io.err(`prsim: wrote ${htmlOut.given}\n`);
    }
    const simS = spec.durationS * result.guests.length;
    io.err(`prsim: ${simS} simulated guest-seconds in ${(result.wallMs / 1000).toFixed(2)} s wall (${Math.round(simS / Math.max(result.wallMs / 1000, 1e-6))}x real time)\n`);
    return 0;
  } finally {
    // Whatever was not written (an error, the run stopped): its temporary file goes, the old file stays.
    discardOutputs(outputs);
  }
}
