// `--emit k8s`: a Kubernetes Indexed Job for a sweep. The scenario goes in a ConfigMap; each of the Job's N
// completion indexes runs one shard (`--shard auto/N` reads JOB_COMPLETION_INDEX) into a folder on a shared
// volume (a PersistentVolumeClaim that every pod can mount, ReadWriteMany when pods land on several nodes); a
// second Job merges that folder once the first is complete. --resume makes a restarted pod continue its rows.
import { stringify } from 'yaml';
import { SimError } from '../core/errors.js';
import type { SweepDef } from './folder.js';

/** Kubernetes caps an Indexed Job's completions and parallelism at 10^5. */
export const K8S_MAX_INDEXES = 100_000;
/** A ConfigMap holds at most 1 MiB. */
const CONFIGMAP_MAX = 1 << 20;

export interface K8sOptions {
  shards: number;
  /** Pods running at once (the Job's parallelism); default: all shards. */
  parallelism?: number;
  cpusPerTask: number;
  /** The container image, with prsim on its PATH (or give `prsim`). */
  image: string;
  /** The PersistentVolumeClaim holding the sweep folder. */
  claim: string;
  /** The prsim command in the image, as words. */
  prsim: string[];
  namespace?: string;
}

export interface K8sManifests {
  name: string;
  /** Where the sweep folder is inside the pods. */
  folder: string;
  /** ConfigMap + Indexed Job, as one YAML file, and the merge Job. */
  sweep: string;
  merge: string;
  /** The objects themselves (tests check them against the batch/v1 schema). */
  objects: { configMap: Record<string, unknown>; job: Record<string, unknown>; mergeJob: Record<string, unknown> };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 name from the scenario's name and hash, short enough for the pods' `<job>-<index>` hostnames. */
export function k8sName(def: SweepDef): string {
  const slug = (def.name ?? 'sweep').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'sweep';
  return `prsim-${slug}-${def.hash.replace(/^sha256:/, '').slice(0, 8)}`.replace(/-+/g, '-');
}

export function k8sManifests(def: SweepDef, o: K8sOptions): K8sManifests {
  if (o.shards > K8S_MAX_INDEXES) throw new SimError('BAD_CONFIG', `--shards: an Indexed Job has at most ${K8S_MAX_INDEXES} completions, got ${o.shards}`);
  if (o.namespace !== undefined && !DNS_LABEL.test(o.namespace)) throw new SimError('BAD_CONFIG', `--namespace: expected a DNS label (lower-case letters, digits, '-'), got '${o.namespace}'`);
  if (!DNS_LABEL.test(o.claim) && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.claim)) {
    throw new SimError('BAD_CONFIG', `--pvc: expected a PersistentVolumeClaim name (lower-case letters, digits, '-', '.'), got '${o.claim}'`);
  }
  const name = k8sName(def);
  const folder = `/data/${name}`;
  const scenarioText = JSON.stringify(def.raw, null, 2) + '\n';
  if (Buffer.byteLength(scenarioText) > CONFIGMAP_MAX - 1024) throw new SimError('BAD_CONFIG', `${def.file}: ${Buffer.byteLength(scenarioText)} bytes, more than a ConfigMap holds (1 MiB)`);
  const meta = (n: string) => ({ name: n, ...(o.namespace ? { namespace: o.namespace } : {}), labels: { app: 'prsim-sweep', 'prsim/sweep': name } });
  const parallelism = Math.min(o.parallelism ?? o.shards, o.shards);
  const volumes = [
    { name: 'scenario', configMap: { name: `${name}-scenario` } },
    { name: 'data', persistentVolumeClaim: { claimName: o.claim } },
  ];
  const mounts = [
    { name: 'scenario', mountPath: '/scenario', readOnly: true },
    { name: 'data', mountPath: '/data' },
  ];
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${name}-scenario`), data: { 'scenario.json': scenarioText } };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(name),
    spec: {
      completionMode: 'Indexed',
      completions: o.shards,
      parallelism,
      // A failed pod is restarted in place and resumes its rows file; the Job fails after this many restarts.
      backoffLimit: Math.max(6, Math.min(o.shards * 2, 1000)),
      template: {
        metadata: { labels: { app: 'prsim-sweep', 'prsim/sweep': name } },
        spec: {
          restartPolicy: 'OnFailure',
          containers: [{
            name: 'prsim',
            image: o.image,
            command: [...o.prsim, 'sweep', '/scenario/scenario.json', '--shard', `auto/${o.shards}`, '--out', folder, '--resume', '--threads', String(o.cpusPerTask)],
            resources: { requests: { cpu: String(o.cpusPerTask) } },
            volumeMounts: mounts,
          }],
          volumes,
        },
      },
    },
  };
  const mergeJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(`${name}-merge`),
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 2,
      template: {
        metadata: { labels: { app: 'prsim-sweep', 'prsim/sweep': name } },
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: 'prsim-merge',
            image: o.image,
            command: [...o.prsim, 'sweep', '--merge', folder, '--json', '--output', `${folder}/merged.json`, '--csv', `${folder}/merged.csv`],
            volumeMounts: mounts.filter((m) => m.name === 'data'),
          }],
          volumes: volumes.filter((v) => v.name === 'data'),
        },
      },
    },
  };
  const header = (what: string) =>
    `# ${what}\n# ${def.name ?? def.file}: ${def.points} grid points over ${def.parameters.join(' x ')}, scenario hash ${def.hash}\n` +
    `# Rows go to ${folder} on the PersistentVolumeClaim ${o.claim}.\n`;
  const sweep = header(`prsim sweep as an Indexed Job: ${o.shards} shards, ${parallelism} at a time.`) +
    stringify(configMap, { lineWidth: 0 }) + '---\n' + stringify(job, { lineWidth: 0 });
  const merge = header('Merge the shards once the sweep Job is complete (kubectl wait --for=condition=complete).') + stringify(mergeJob, { lineWidth: 0 });
  return { name, folder, sweep, merge, objects: { configMap, job, mergeJob } };
}
