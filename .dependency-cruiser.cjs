// The layers of src/, bottom to top, and the rules `npm run lint:deps` holds them to (dependency-cruiser; CI
// runs it). A folder may import from its own layer and the ones below it, never from one above, so no two
// folders depend on each other; no file imports itself through others. Type-only imports count: a type is a
// dependency of the code that names it. The entries (src/index.ts ".", src/node.ts "./node") sit on top.
//
//   core        the wasm core and its facade, config, profiles, types, errors
//   clock       virtual and real clocks, the seeded random stream
//   model       the plain TypeScript reference model (differential tests, W1)
//   importers   real-kernel files from text and bytes (/proc, kpageflags, ftrace, CSV), /proc text of a guest,
//               a guest in a recorded state; run-folder.ts reads a run folder from disk (Node)
//   reporting   free page reporting: the state machine, the worker, the device interface
//   host        the QEMU host model and the devices in front of it
//   hinting     free page hinting v13
//   schema      the field schemas every input is checked with (scenario files, API specs, workloads)
//   workloads   the processes a guest runs
//   sim         one guest (guest-run), the engine, the run estimate, the spec and result types
//   scenario    a scenario file into a SimulationSpec, sweep grids
//   report      tables, fleet view, CSV, JSON, HTML and SVG of results and real runs
//   replay      a recorded run replayed on the simulator and compared
//   sweep       the worker-thread pool, sweeps streamed into folders, shards, merge, Slurm and Kubernetes (Node)
//   bench       the W1-W3 benchmarks
//   web         the browser page (and its server, serve.ts, Node)
//   cli         the prsim command: one module per command, each (args, io)
const LAYERS = [
  'core', 'clock', 'model', 'importers', 'reporting', 'host', 'hinting', 'schema', 'workloads', 'sim', 'scenario',
  'report', 'replay', 'sweep', 'bench', 'web', 'cli',
];

const upward = LAYERS.map((folder, i) => ({
  name: `layer-${folder}`,
  severity: 'error',
  comment: `src/${folder}/ may import only from ${['its own folder', ...LAYERS.slice(0, i)].join(', ')}`,
  from: { path: `^src/${folder}/` },
  to: { path: `^src/((${LAYERS.slice(i + 1).join('|') || '-'})/|(index|node)\\.ts$)` },
}));

// What "." reaches must run in a browser: no node: module from these folders or files. Node-only code lives in
// the files named here (each says so in its header) and in sweep/, cli/ and bench/.
const NODE_ONLY = [
  '^src/importers/run-folder\\.ts$', '^src/replay/folder\\.ts$', '^src/scenario/load\\.ts$', '^src/web/serve\\.ts$',
  '^src/(sweep|cli|bench)/', '^src/node\\.ts$',
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a file that reaches itself through its imports',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'two folders that import each other, directly or through others',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'browser-safe',
      severity: 'error',
      comment: 'code the browser entry can reach imports no node: module (Node-only files are listed in NODE_ONLY); '
        + 'types of one, and process.getBuiltinModule where there is one (estimate.ts, kpageflags.ts, ftrace.ts), are fine',
      from: { path: '^src/', pathNot: NODE_ONLY },
      to: { dependencyTypes: ['core'], dependencyTypesNot: ['type-only', 'type-import', 'process-get-builtin-module'] },
    },
    {
      name: 'browser-entry',
      severity: 'error',
      comment: 'src/index.ts (".") reaches no Node-only file',
      from: { path: '^src/index\\.ts$' },
      to: { path: NODE_ONLY, reachable: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'an import that resolves to nothing',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(build|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
