// The emitted Slurm array on a real Slurm: Debian's slurm-wlm and munge (installed with apt-get when missing),
// munged, slurmctld and slurmd started here with a one-node configuration written into a temporary folder,
// the sweep's submit.sh queues the array and its dependent merge, and the merged rows must equal the local
// unsharded sweep. The daemons started here are stopped by their pids. Skipped, saying why, only where
// apt-get does not exist (not a Debian-like machine).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli, ROOT, sweepScenario } from '../cli.helpers.js';

const exec = promisify(execFile);
const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const APT = has('apt-get');
if (!APT) console.warn('test/slurm: skipped: apt-get is not available here, so Debian\'s slurm-wlm and munge cannot be installed');

/** A TCP port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!APT)('the emitted Slurm array on a real Slurm', () => {
  let tmp: string;
  let bundle: Awaited<ReturnType<typeof bundleCli>>;
  const daemons: Array<{ name: string; child: ChildProcess }> = [];
  let env: NodeJS.ProcessEnv;
  let stopping = false;

  const logs = () => ['munged.log', 'slurmctld.log', 'slurmd.log']
    .map((f) => join(tmp, f)).filter(existsSync).map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`).join('\n');

  function start(name: string, cmd: string, args: string[], opts: { uid?: number; gid?: number } = {}): void {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      if (!stopping) console.warn(`test/slurm: ${name} exited (${code ?? signal}): ${err.slice(-2000)}`);
    });
    daemons.push({ name, child });
  }

  async function until(what: string, test: () => Promise<boolean>, ms: number): Promise<void> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
      if (await test().catch(() => false)) return;
    }
    throw new Error(`test/slurm: ${what} did not happen within ${ms / 1000} s\n${logs()}`);
  }

  beforeAll(async () => {
    if (!has('slurmctld') || !has('slurmd') || !has('sbatch') || !has('munged')) {
      execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', '-q', 'slurm-wlm', 'munge'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
    bundle = await bundleCli();
    tmp = mkdtempSync(join(tmpdir(), 'prsim-slurm-'));
    chmodSync(tmp, 0o755); // munged runs as the munge user and must reach its socket here
    const munge = join(tmp, 'munge');
    mkdirSync(munge, { mode: 0o755 });
    const uid = Number(execFileSync('id', ['-u', 'munge'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'munge'], { encoding: 'utf8' }));
    writeFileSync(join(munge, 'munge.key'), Buffer.from(Array.from({ length: 1024 }, () => Math.floor(Math.random() * 256))), { mode: 0o600 });
    for (const p of [munge, join(munge, 'munge.key')]) chownSync(p, uid, gid);
    for (const d of ['state', 'spool']) mkdirSync(join(tmp, d));

    const host = hostname().split('.')[0]!;
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const conf = join(tmp, 'slurm.conf');
    writeFileSync(conf, [
      'ClusterName=prsimtest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      'SlurmUser=root', 'SlurmdUser=root',
      `SlurmctldPort=${ctldPort}`, `SlurmdPort=${dPort}`,
      'AuthType=auth/munge', `AuthInfo=socket=${munge}/munge.socket.2`,
      `StateSaveLocation=${tmp}/state`, `SlurmdSpoolDir=${tmp}/spool`,
      `SlurmctldPidFile=${tmp}/slurmctld.pid`, `SlurmdPidFile=${tmp}/slurmd.pid`,
      `SlurmctldLogFile=${tmp}/slurmctld.log`, `SlurmdLogFile=${tmp}/slurmd.log`,
      // No cgroups and no systemd needed: plain process tracking, no task binding.
      'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none',
      'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU',
      'JobCompType=jobcomp/none', 'AccountingStorageType=accounting_storage/none', 'MpiDefault=none', 'ReturnToService=2',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${availableParallelism()} State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    ].join('\n') + '\n');
    env = { ...process.env, SLURM_CONF: conf };

    start('munged', '/usr/sbin/munged', ['-F', `--socket=${munge}/munge.socket.2`, `--key-file=${munge}/munge.key`,
      `--pid-file=${munge}/munged.pid`, `--log-file=${tmp}/munged.log`, `--seed-file=${munge}/munged.seed`], { uid, gid });
    await until('munged listening', async () => existsSync(`${munge}/munge.socket.2`), 30_000);
    start('slurmctld', '/usr/sbin/slurmctld', ['-D', '-f', conf]);
    start('slurmd', '/usr/sbin/slurmd', ['-D', '-f', conf]);
    await until('the node idle', async () => (await exec('sinfo', ['-h', '-o', '%T'], { env })).stdout.trim() === 'idle', 60_000);
  }, 600_000);

  afterAll(async () => {
    // Stop what this test started, by pid, last started first.
    stopping = true;
    for (const { child } of daemons.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('runs the array and its dependent merge; the merged rows equal the local sweep', async () => {
    const raw = sweepScenario();
    raw.durationS = 3;
    const scenario = join(tmp, 'grid.json');
    writeFileSync(scenario, JSON.stringify(raw));
    const dir = join(tmp, 'sweep');
    const prsim = [process.execPath, bundle.cli];
    await exec(prsim[0]!, [prsim[1]!, 'sweep', scenario, '--emit', 'slurm', '--shards', '3', '--out', dir, '--prsim', prsim.join(' ')], { cwd: ROOT });

    const submitted = await exec('sh', [join(dir, 'submit.sh')], { env, cwd: tmp });
    const m = /^array job (\d+) \(3 tasks\), merge job (\d+):/.exec(submitted.stdout);
    expect(m, submitted.stdout + submitted.stderr).not.toBeNull();
    const [array, merge] = [m![1]!, m![2]!];
    const state = async (job: string) => /JobState=(\w+)/.exec((await exec('scontrol', ['show', 'job', job], { env })).stdout)?.[1];
    // The merge waits on the array (afterok), so once it is done, so is everything.
    await until(`merge job ${merge} done`, async () => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes((await state(merge)) ?? ''), 300_000);
    const tasks = (await exec('scontrol', ['show', 'job', array], { env })).stdout.match(/JobState=\w+/g);
    expect(tasks, logs()).toEqual(['JobState=COMPLETED', 'JobState=COMPLETED', 'JobState=COMPLETED']);
    expect(await state(merge)).toBe('COMPLETED');

    // One rows file and one Slurm log per task; each task ran its own shard.
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()).toEqual(['rows-0-of-3.jsonl', 'rows-1-of-3.jsonl', 'rows-2-of-3.jsonl']);
    for (let k = 0; k < 3; k++) expect(readFileSync(join(dir, `slurm-${array}_${k}.out`), 'utf8')).toMatch(new RegExp(`^prsim: shard ${k}/3: `));

    const local = await exec(process.execPath, [bundle.cli, 'sweep', scenario, '--json', '--csv', join(tmp, 'local.csv')], { cwd: ROOT });
    expect(readFileSync(join(dir, 'merged.json'), 'utf8')).toBe(local.stdout);
    expect(readFileSync(join(dir, 'merged.csv'), 'utf8')).toBe(readFileSync(join(tmp, 'local.csv'), 'utf8'));
    expect(JSON.parse(local.stdout).rows).toHaveLength(8);
  }, 600_000);
});
