// The package's Node entry ("./node"): everything of "." (./index.ts), and what needs Node: run folders read from
// disk and their replay, trace files streamed from disk, scenario files, the worker-thread pool and sweeps,
// the web page's server, and the prsim command line itself.
export * from './index.js';

// Real-kernel runs and traces from disk; replay of a run folder, and of every run folder of a directory.
export { loadRun } from './importers/run-folder.js';
export { readFtraceFile, readFtraceFileSync } from './importers/ftrace.js';
export { replay, fidelityRows, type ReplayFolderOptions } from './replay/folder.js';

// Scenario files.
export { readScenarioFile, readScenario, loadScenario, type LoadedScenario } from './scenario/load.js';

// Many simulations at once: the worker-thread pool, and sweeps streamed into a folder of rows.
export {
  JobPool, runJobs, runScenarioSpec, type JobResult, type PoolOptions, type RunOptions as PoolRunOptions,
} from './sweep/pool.js';
export { splitGuests, mergeResults } from './sim/split.js';
export { sweepDef, prepareFolder, readFolder, type SweepDef } from './sweep/folder.js';
export { runSweepToFolder, type SweepRunOptions, type SweepRunResult, type SweepProgress } from './sweep/run.js';
export { indexFolder, rowsInOrder, type FolderIndex } from './sweep/merge.js';
export { parseShard, type Shard } from './sweep/shard.js';
export { type SweepRow } from './sweep/row.js';
export { slurmFiles, type SlurmOptions, type SlurmFiles } from './sweep/emit-slurm.js';
export { k8sManifests, type K8sOptions, type K8sManifests } from './sweep/emit-k8s.js';

// The browser page's server, and the command line run in-process (main(['run', 'memhog'], memoryIo())).
export { startWebServer, defaultWebDir, type WebServer, type ServeOptions } from './web/serve.js';
export { main } from './cli/prsim.js';
export { memoryIo, processIo, type Io } from './cli/io.js';
