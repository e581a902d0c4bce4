// The prsim command: picks the subcommand and turns errors into one line on stderr. Bad input (a scenario that
// does not validate, an unknown option, a malformed real-kernel file, a run too large for this machine) exits 2
// with `prsim: <message>`; so does anything the system refuses (a file that cannot be read, a folder that is a
// file, a port in use, a host that does not resolve), named by its path or address, whichever command met it.
// Only a bug in the simulator exits 1, and its stack is printed only with PRSIM_DEBUG=1.
//
// Every command is a function of its arguments and an Io, in a module of this folder: it parses its options with
// parse() (./args.ts), writes through the Io and throws UsageError or SimError for bad input.
import { SimError } from '../core/errors.js';
import { benchCommand } from './bench.js';
import { importCommand } from './import.js';
import { processIo, type Io } from './io.js';
import { fidelityCommand, replayCommand } from './replay.js';
import { runCommand } from './run.js';
import { sweepCommand } from './sweep.js';
import { UsageError } from './usage-error.js';
import { webCommand } from './web.js';

export const USAGE = `usage: prsim <command> [options]

commands:
  run [scenario]          simulate a scenario (default scenarios/memhog.json) and compare its guests
  compare [scenario]      the same guest and workload under --policies none,linux-5.7,linux-6.1,hinting
  sweep <scenario>        run the scenario's parameter grid on every core, one row per point
  import <dir-or-file>    summarise real-kernel data (a run folder or one /proc file or CSV)
  replay <run-dir>        replay a real run on the simulator and compare (trace, workload or idle boot)
  fidelity [dir]          replay every run folder of dir (../shared/real-kernel) and hold each to tolerance
  bench                   the W1-W3 benchmarks
  web                     serve the interactive page

With no command, prsim runs the default scenario. prsim <command> --help for its options.
`;

const VERSION = '0.1.0';

function isBadInput(e: unknown): boolean {
  if (e instanceof SimError || e instanceof UsageError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  // A file too large to read whole, or to hold as one string, is input this machine cannot take.
  return typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || code === 'ERR_FS_FILE_TOO_LARGE' || code === 'ERR_STRING_TOO_LONG');
}

const SYSTEM_MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory (a run folder or a path inside one was expected)',
  EISDIR: 'is a directory, expected a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  EADDRINUSE: 'address already in use (pick another port)',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (try again)',
  ECONNREFUSED: 'connection refused',
};

/**
 * An error the operating system raised (Node marks them with an errno code and the syscall): what the user
 * asked for is not possible here. Its path, host or address makes the message.
 */
export function systemError(e: unknown): string | null {
  const x = e as { code?: unknown; syscall?: unknown; path?: unknown; dest?: unknown; hostname?: unknown; address?: unknown; port?: unknown } | null;
  if (!x || typeof x.code !== 'string' || !/^E[A-Z0-9_]+$/.test(x.code) || typeof x.syscall !== 'string') return null;
  const what = SYSTEM_MESSAGES[x.code] ?? (e as Error).message;
  const where = typeof x.path === 'string' ? x.path
    : typeof x.hostname === 'string' ? x.hostname
      : typeof x.address === 'string' ? (x.port !== undefined ? `${x.address}:${String(x.port)}` : x.address) : '';
  return where ? `${where}: ${what}` : `${what} (${x.syscall})`;
}

type Command = (args: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: (args, io) => runCommand(args, io, 'run'),
  compare: (args, io) => runCommand(args, io, 'compare'),
  sweep: sweepCommand,
  import: importCommand,
  replay: replayCommand,
  fidelity: fidelityCommand,
  bench: benchCommand,
  web: webCommand,
};

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  // No command (or only options, or a scenario file): run.
  if (first === undefined || (first.startsWith('-') && !['-h', '--help', '--version', '-V'].includes(first))) return runCommand(argv, io, 'run');
  if (first.endsWith('.json')) return runCommand(argv, io, 'run');
  switch (first) {
    case '-h':
    case '--help':
    case 'help':
      io.out(USAGE);
      return 0;
    case '--version':
    case '-V':
      io.out(`prsim ${VERSION}\n`);
      return 0;
    default: {
      if (Object.hasOwn(COMMANDS, first)) return COMMANDS[first]!(rest, io);
      throw new UsageError(`unknown command '${first}' (commands: ${Object.keys(COMMANDS).join(', ')}; see prsim --help)`);
    }
  }
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (isBadInput(e)) {
      io.err(`prsim: ${err.message.split('\n').join('\nprsim: ')}\n`);
      return 2;
    }
    const sys = systemError(e);
    if (sys !== null) {
      const command = argv[0] && !argv[0].startsWith('-') && !argv[0].endsWith('.json') ? `${argv[0]}: ` : '';
      io.err(`prsim: ${command}${sys}\n`);
      return 2;
    }
    io.err(`prsim: internal error: ${err.message}\n`);
    io.err(process.env['PRSIM_DEBUG'] ? `${err.stack}\n` : 'prsim: (set PRSIM_DEBUG=1 to see where)\n');
    return 1;
  }
}
