// Commands whose code lives elsewhere: replay (src/replay/cli.ts), bench (src/bench/cli.ts) and web
// (src/web/serve.ts). They are imported on demand through a template-literal import, which esbuild turns into a
// glob over src/*/cli.ts and src/*/serve.ts: a module present at build time is bundled, a missing one leaves the
// command registered with a clear message instead of breaking the build.
import type { Io } from './io.js';

export interface Delegate {
  module: string;
  exportName: string;
  load: () => Promise<Record<string, unknown>>;
  what: string;
}

// The folder is a variable on purpose (see above); each pattern matches only its file name.
const cliIn = (dir: string) => import(`../${dir}/cli.ts`) as Promise<Record<string, unknown>>;
const serveIn = (dir: string) => import(`../${dir}/serve.ts`) as Promise<Record<string, unknown>>;

export const DELEGATES: Record<string, Delegate> = {
  replay: { module: 'src/replay/cli.ts', exportName: 'replayCommand', load: () => cliIn('replay'), what: 'replay of a real run' },
  fidelity: { module: 'src/replay/cli.ts', exportName: 'fidelityCommand', load: () => cliIn('replay'), what: 'every real run against the simulator' },
  bench: { module: 'src/bench/cli.ts', exportName: 'benchCommand', load: () => cliIn('bench'), what: 'the W1-W3 benchmarks' },
  web: { module: 'src/web/serve.ts', exportName: 'serveWeb', load: () => serveIn('web'), what: 'the web page' },
};

export async function delegateCommand(name: string, args: string[], io: Io, table: Record<string, Delegate> = DELEGATES): Promise<number> {
  const d = table[name]!;
  let mod: Record<string, unknown>;
  try {
    mod = await d.load();
  } catch (e) {
    const msg = (e as Error).message ?? '';
    // Only "the module is not there" is reported as such; an error inside a module that exists must surface.
    if (!/not found in bundle|Cannot find module|Failed to load url|ERR_MODULE_NOT_FOUND|does not exist/i.test(msg)) throw e;
    io.err(`prsim: '${name}' (${d.what}) is not available in this build: ${d.module} is missing\n`);
    return 2;
  }
  const fn = mod[d.exportName];
  if (typeof fn !== 'function') {
    io.err(`prsim: '${name}' is not available in this build: ${d.module} does not export ${d.exportName}()\n`);
    return 2;
  }
  let result: unknown;
  try {
    result = await (fn as (a: string[], io: Io) => Promise<unknown>)(args, io);
  } catch (e) {
    // A module's own usage errors (bad options) are bad input, not a simulator bug.
    if ((e as Error).name === 'UsageError') {
      const msg = (e as Error).message;
      io.err(`prsim: ${msg.startsWith(`${name}:`) ? msg : `${name}: ${msg}`}\n`);
      return 2;
    }
    throw e;
  }
  // `web` answers with the running server (it keeps the process alive) or null after --help.
  return typeof result === 'number' ? result : 0;
}
