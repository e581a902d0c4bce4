// `--emit slurm`: a Slurm job array for a sweep. sweep.sbatch runs one shard per array task (`--shard auto/N`
// reads SLURM_ARRAY_TASK_ID), merge.sbatch merges the folder, and submit.sh queues the array and then the merge
// as a job that depends on it (afterok: it starts once every task has succeeded). Every task passes --resume,
// so a requeued or re-submitted task continues its rows file instead of starting over.
import { SimError } from '../core/errors.js';
import type { SweepDef } from './folder.js';

export interface SlurmOptions {
  /** The sweep folder, absolute: the array's tasks and the merge read and write it (a shared file system). */
  dir: string;
  shards: number;
  /** Tasks running at once (Slurm's `%M` array throttle); default: no limit. */
  parallelism?: number;
  cpusPerTask: number;
  /** The prsim command on the cluster's nodes, as words (e.g. ['/usr/bin/node', '/opt/prsim/dist/cli.js']). */
  prsim: string[];
  /** Further `#SBATCH` options for the array and the merge (e.g. '--partition=batch', '--time=02:00:00'). */
  sbatch?: string[];
}

/** Single-quoted for sh: the text exactly, whatever it holds. */
export const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const command = (words: string[]) => words.map(shellQuote).join(' ');

/** `#SBATCH` lines are split on blanks and expand `%` patterns, so the folder must hold neither. */
function checkDir(dir: string): void {
  if (!dir.startsWith('/') || /[\s%'"\\]/.test(dir)) {
    throw new SimError('BAD_CONFIG', `--out ${dir}: a Slurm array needs an absolute folder without blanks, quotes, backslashes or '%' (it is written into #SBATCH lines)`, { dir });
  }
}

/**
 * Slurm's default MaxArraySize (slurm.conf): array indexes must stay below it, so a larger array is refused by
 * sbatch on a cluster that kept the default. Sites raise it; the launcher warns and writes the array anyway.
 */
export const SLURM_DEFAULT_MAX_ARRAY_SIZE = 1001;

export function slurmJobName(def: SweepDef): string {
  return `prsim-${(def.name ?? 'sweep').replace(/[^\w.-]+/g, '-').slice(0, 40)}`;
}

export interface SlurmFiles {
  'sweep.sbatch': string;
  'merge.sbatch': string;
  'submit.sh': string;
}

export function slurmFiles(def: SweepDef, o: SlurmOptions): SlurmFiles {
  checkDir(o.dir);
  const name = slurmJobName(def);
  const extra = (o.sbatch ?? []).map((s) => `#SBATCH ${s}\n`).join('');
  const scenario = `${o.dir}/scenario.json`;
  const about = `# ${def.name ?? def.file}: ${def.points} grid points over ${def.parameters.join(' x ')}, scenario hash ${def.hash}.\n` +
    `# Written by prsim sweep ${def.file} --emit slurm --shards ${o.shards} --out ${o.dir}\n`;
  const throttle = o.parallelism !== undefined && o.parallelism < o.shards ? `%${o.parallelism}` : '';
  const sweep = `#!/bin/bash
# A prsim sweep as a Slurm job array, one shard of ${o.shards} per task.
${about}# Submit with the merge after it: sh ${o.dir}/submit.sh   (or the array alone: sbatch ${o.dir}/sweep.sbatch)
#SBATCH --job-name=${name}
#SBATCH --array=0-${o.shards - 1}${throttle}
#SBATCH --cpus-per-task=${o.cpusPerTask}
#SBATCH --output=${o.dir}/slurm-%A_%a.out
${extra}set -euo pipefail
# Task i runs the grid points with index % ${o.shards} == i into ${o.dir}/rows-i-of-${o.shards}.jsonl.
exec ${command(o.prsim)} sweep ${shellQuote(scenario)} --shard auto/${o.shards} --out ${shellQuote(o.dir)} --resume --threads "\${SLURM_CPUS_PER_TASK:-${o.cpusPerTask}}"
`;
  const merge = `#!/bin/bash
# Merge the rows of every shard into the output of the unsharded sweep (fails naming any missing point).
${about}#SBATCH --job-name=${name}-merge
#SBATCH --output=${o.dir}/slurm-merge-%j.out
${extra}set -euo pipefail
exec ${command(o.prsim)} sweep --merge ${shellQuote(o.dir)} --json --output ${shellQuote(`${o.dir}/merged.json`)} --csv ${shellQuote(`${o.dir}/merged.csv`)}
`;
  const submit = `#!/bin/sh
# Queue the sweep's array, then its merge as a job that starts once every array task has succeeded.
# Arguments are passed to sbatch for the array (e.g. --partition=batch).
${about}set -eu
array=$(sbatch --parsable "$@" ${shellQuote(`${o.dir}/sweep.sbatch`)})
array=\${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" ${shellQuote(`${o.dir}/merge.sbatch`)})
merge=\${merge%%;*}
echo "array job $array (${o.shards} tasks), merge job $merge: ${o.dir}/merged.json and merged.csv when done"
`;
  return { 'sweep.sbatch': sweep, 'merge.sbatch': merge, 'submit.sh': submit };
}
