// Launchers: the Slurm array script runs one shard per task and its merge gives the unsharded sweep's output
// (run here with bash, each task given its SLURM_ARRAY_TASK_ID as Slurm would; test/slurm runs it on a real
// Slurm); the Kubernetes manifests are batch/v1 Jobs (checked against the Job schema's fields and required
// fields, and the API's rules for Indexed Jobs).
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { memoryIo } from '../src/cli/io.js';
import { sweepDef } from '../src/sweep/folder.js';
import { k8sManifests, k8sName } from '../src/sweep/emit-k8s.js';
import { slurmFiles } from '../src/sweep/emit-slurm.js';
import { ROOT, sweepFixture, sweepScenario } from './cli.helpers.js';
import { prsimWith } from './helpers/in-process.js';

const exec = promisify(execFile);
let bundle: Awaited<ReturnType<typeof sweepFixture>>['bundle'];
let tmp: string;
let scenario: string;

let cleanup: () => void;

beforeAll(async () => {
  ({ bundle, tmp, scenario, cleanup } = await sweepFixture('prsim-emit-'));
});
afterAll(() => cleanup());

const prsim = (...argv: string[]) => prsimWith(memoryIo(ROOT), argv);

describe('--emit slurm', () => {
  it('writes an array script, a merge script and submit.sh that chains them', async () => {
    const dir = join(tmp, 'slurm');
    const r = await prsim('sweep', scenario, '--emit', 'slurm', '--shards', '4', '--out', dir, '--prsim', `${process.execPath} ${bundle.cli}`, '--sbatch=--time=00:10:00', '--parallelism', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`sh ${join(dir, 'submit.sh')}`);
    const sweep = readFileSync(join(dir, 'sweep.sbatch'), 'utf8');
    expect(sweep).toMatch(/^#!\/bin\/bash\n/);
    expect(sweep).toContain('\n#SBATCH --array=0-3%2\n');
    expect(sweep).toContain('\n#SBATCH --cpus-per-task=1\n');
    expect(sweep).toContain(`\n#SBATCH --output=${dir}/slurm-%A_%a.out\n`);
    expect(sweep).toContain('\n#SBATCH --time=00:10:00\n');
    expect(sweep).toContain(`exec ${process.execPath} ${bundle.cli} sweep ${dir}/scenario.json --shard auto/4 --out ${dir} --resume --threads "\${SLURM_CPUS_PER_TASK:-1}"\n`);
    // sbatch reads #SBATCH lines only before the first command.
    const firstCommand = sweep.split('\n').findIndex((l) => l && !l.startsWith('#'));
    expect(sweep.split('\n').slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false);
    const merge = readFileSync(join(dir, 'merge.sbatch'), 'utf8');
    expect(merge).toContain(`sweep --merge ${dir} --json --output ${dir}/merged.json --csv ${dir}/merged.csv\n`);
    const submit = readFileSync(join(dir, 'submit.sh'), 'utf8');
    expect(submit).toContain(`array=$(sbatch --parsable "$@" ${dir}/sweep.sbatch)`);
    expect(submit).toContain(`--dependency=afterok:"$array" ${dir}/merge.sbatch`);
    for (const f of ['sweep.sbatch', 'merge.sbatch', 'submit.sh']) {
      expect(statSync(join(dir, f)).mode & 0o111).toBe(0o111);
      await exec('bash', ['-n', join(dir, f)]);
    }
    // The folder already holds the scenario the tasks run, so an edit of the original file changes nothing.
    expect(JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(scenario, 'utf8')));
  });

  it('its tasks, each given its SLURM_ARRAY_TASK_ID, and its merge give the output of the local sweep', async () => {
    const dir = join(tmp, 'slurm-run');
    expect((await prsim('sweep', scenario, '--emit', 'slurm', '--shards', '3', '--out', dir, '--prsim', `${process.execPath} ${bundle.cli}`)).code).toBe(0);
    for (const k of [1, 2, 0]) {
      const env = { ...process.env, SLURM_ARRAY_TASK_ID: String(k), SLURM_CPUS_PER_TASK: '1' };
      const { stderr } = await exec('bash', [join(dir, 'sweep.sbatch')], { env });
      expect(stderr).toContain(`shard ${k}/3:`);
    }
    await exec('bash', [join(dir, 'merge.sbatch')]);
    const local = await exec(process.execPath, [bundle.cli, 'sweep', scenario, '--json'], { cwd: ROOT });
    expect(readFileSync(join(dir, 'merged.json'), 'utf8')).toBe(local.stdout);
    const localCsv = join(tmp, 'local.csv');
    await exec(process.execPath, [bundle.cli, 'sweep', scenario, '--csv', localCsv], { cwd: ROOT });
    expect(readFileSync(join(dir, 'merged.csv'), 'utf8')).toBe(readFileSync(localCsv, 'utf8'));
  });

  it('warns when the array passes Slurm\'s default MaxArraySize (1001), which sbatch would refuse on such a cluster', async () => {
    const fits = await prsim('sweep', scenario, '--emit', 'slurm', '--shards', '1001', '--out', join(tmp, 'slurm-1001'));
    expect(fits.code).toBe(0);
    expect(fits.stderr).not.toContain('MaxArraySize');
    const dir = join(tmp, 'slurm-1002');
    const over = await prsim('sweep', scenario, '--emit', 'slurm', '--shards', '1002', '--out', dir);
    expect(over.code).toBe(0);
    expect(over.stderr).toContain("prsim: --shards 1002: an array of indexes 0-1001 passes Slurm's default MaxArraySize (1001), and sbatch refuses it unless the cluster raised it (scontrol show config | grep MaxArraySize); at most 1001 shards fit the default\n");
    expect(readFileSync(join(dir, 'sweep.sbatch'), 'utf8')).toContain('\n#SBATCH --array=0-1001\n');
  });

  it('refuses a folder that #SBATCH lines cannot hold', () => {
    const def = sweepDef('g.json', sweepScenario());
    expect(() => slurmFiles(def, { dir: '/tmp/a b', shards: 2, cpusPerTask: 1, prsim: ['prsim'] })).toThrow(/--out \/tmp\/a b: a Slurm array needs an absolute folder without blanks/);
    expect(() => slurmFiles(def, { dir: '/tmp/100%', shards: 2, cpusPerTask: 1, prsim: ['prsim'] })).toThrow(/without blanks, quotes, backslashes or '%'/);
  });
});

// --- a small JSON Schema check (properties, required, additionalProperties, type, enum, items, $ref) ---

type Schema = { $ref?: string; type?: string | string[]; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; additionalProperties?: boolean | Schema; items?: Schema };
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/k8s-job-batch-v1.schema.json'), 'utf8')) as { definitions: Record<string, Schema>; Job: Schema; ConfigMap: Schema };

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function check(schema: Schema, v: unknown, path: string, problems: string[]): void {
  if (schema.$ref) return check(SCHEMA.definitions[schema.$ref.replace('#/definitions/', '')]!, v, path, problems);
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(v);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) problems.push(`${path}: expected ${types.join('|')}, got ${t}`);
  }
  if (schema.enum && !schema.enum.includes(v)) problems.push(`${path}: expected one of ${JSON.stringify(schema.enum)}, got ${JSON.stringify(v)}`);
  if (Array.isArray(v) && schema.items) v.forEach((x, i) => check(schema.items!, x, `${path}[${i}]`, problems));
  if (typeOf(v) === 'object') {
    const o = v as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in o)) problems.push(`${path}.${r}: required`);
    for (const [k, x] of Object.entries(o)) {
      const p = schema.properties?.[k];
      if (p) check(p, x, `${path}.${k}`, problems);
      else if (schema.additionalProperties === false) problems.push(`${path}.${k}: not a field of this object`);
      else if (typeof schema.additionalProperties === 'object') check(schema.additionalProperties, x, `${path}.${k}`, problems);
    }
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The Job API's own validation of what a sweep sets (beyond the schema): the Indexed Job rules. */
function jobRules(job: any): string[] {
  const p: string[] = [];
  if (!job.metadata?.name || !DNS_SUBDOMAIN.test(job.metadata.name) || job.metadata.name.length > 63) p.push('metadata.name: a DNS-1123 name of at most 63 characters');
  const s = job.spec;
  if (s.completionMode === 'Indexed') {
    if (!Number.isInteger(s.completions)) p.push('spec.completions: required when completionMode is Indexed');
    if (s.completions > 1e5 || s.parallelism > 1e5) p.push('spec.completions, spec.parallelism: at most 100000 for an Indexed Job');
  }
  if (!['Never', 'OnFailure'].includes(s.template.spec.restartPolicy)) p.push('spec.template.spec.restartPolicy: Never or OnFailure in a Job');
  for (const [k, v] of Object.entries<string>(s.template.metadata?.labels ?? {})) if (v.length > 63 || k.length > 253) p.push(`label ${k}: too long`);
  return p;
}

describe('--emit k8s', () => {
  it('writes a ConfigMap and an Indexed Job that pass the batch/v1 schema, and a merge Job', async () => {
    const dir = join(tmp, 'k8s');
    const r = await prsim('sweep', scenario, '--emit', 'k8s', '--shards', '6', '--parallelism', '3', '--out', dir, '--image', 'registry.example/prsim:0.1.0', '--pvc', 'sweeps', '--cpus-per-task', '2');
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(readFileSync(join(dir, 'k8s-sweep.yaml'), 'utf8')).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Job']);
    const [cm, job] = docs;
    const [merge] = parseAllDocuments(readFileSync(join(dir, 'k8s-merge.yaml'), 'utf8')).map((d) => d.toJS());
    for (const [schema, obj, name] of [[SCHEMA.ConfigMap, cm, 'configmap'], [SCHEMA.Job, job, 'job'], [SCHEMA.Job, merge, 'merge']] as const) {
      const problems: string[] = [];
      check(schema, obj, name, problems);
      expect(problems).toEqual([]);
    }
    expect(jobRules(job)).toEqual([]);
    expect(jobRules(merge)).toEqual([]);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 6, parallelism: 3 });
    const name = k8sName(sweepDef(scenario, JSON.parse(readFileSync(scenario, 'utf8'))));
    expect(job.metadata.name).toBe(name);
    expect(r.stdout).toContain(`kubectl wait --for=condition=complete --timeout=24h job/${name}`);
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe('registry.example/prsim:0.1.0');
    expect(c.command).toEqual(['prsim', 'sweep', '/scenario/scenario.json', '--shard', 'auto/6', '--out', `/data/${name}`, '--resume', '--threads', '2']);
    expect(c.resources).toEqual({ requests: { cpu: '2' } });
    // The scenario travels in the ConfigMap, mounted where the command reads it; the rows go to the claim.
    expect(JSON.parse(cm.data['scenario.json'])).toEqual(JSON.parse(readFileSync(scenario, 'utf8')));
    expect(job.spec.template.spec.volumes).toEqual([
      { name: 'scenario', configMap: { name: cm.metadata.name } },
      { name: 'data', persistentVolumeClaim: { claimName: 'sweeps' } },
    ]);
    expect(c.volumeMounts).toEqual([{ name: 'scenario', mountPath: '/scenario', readOnly: true }, { name: 'data', mountPath: '/data' }]);
    expect(merge.spec.template.spec.containers[0].command).toEqual(['prsim', 'sweep', '--merge', `/data/${name}`, '--json', '--output', `/data/${name}/merged.json`, '--csv', `/data/${name}/merged.csv`]);
  });

  it('the schema check is not a rubber stamp: a misspelt field, a missing container name or template is caught', () => {
    const def = sweepDef('g.json', sweepScenario());
    const { job } = k8sManifests(def, { shards: 2, cpusPerTask: 1, image: 'i', claim: 'c', prsim: ['prsim'] }).objects as any;
    const problems = (o: unknown) => { const p: string[] = []; check(SCHEMA.Job, o, 'job', p); return p; };
    expect(problems(job)).toEqual([]);
    expect(problems({ ...job, spec: { ...job.spec, completionsMode: 'Indexed' } })).toEqual(['job.spec.completionsMode: not a field of this object']);
    const noName = structuredClone(job);
    delete noName.spec.template.spec.containers[0].name;
    expect(problems(noName)).toEqual(['job.spec.template.spec.containers[0].name: required']);
    expect(problems({ ...job, spec: { completions: 2 } })).toEqual(['job.spec.template: required']);
    expect(jobRules({ ...job, spec: { ...job.spec, completions: undefined } })).toEqual(['spec.completions: required when completionMode is Indexed']);
  });

  it('asks for what it needs, and refuses what Kubernetes would', async () => {
    const dir = join(tmp, 'k8s-bad');
    expect((await prsim('sweep', scenario, '--emit', 'k8s', '--shards', '2', '--out', dir, '--pvc', 'x')).stderr).toBe('prsim: sweep --emit k8s: which container image? (--image REGISTRY/prsim:TAG, with prsim on its PATH)\n');
    expect((await prsim('sweep', scenario, '--emit', 'k8s', '--shards', '2', '--out', dir, '--image', 'i')).stderr).toMatch(/^prsim: sweep --emit k8s: which volume holds the rows\?/);
    const big = await prsim('sweep', scenario, '--emit', 'k8s', '--shards', '100001', '--out', dir, '--image', 'i', '--pvc', 'x');
    expect(big).toMatchObject({ code: 2, stderr: 'prsim: --shards: an Indexed Job has at most 100000 completions, got 100001\n' });
    expect((await prsim('sweep', scenario, '--emit', 'k8s', '--out', dir)).stderr).toBe('prsim: sweep --emit k8s: how many shards? (--shards N)\n');
  });
});
