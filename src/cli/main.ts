// Entry point of the prsim command (bundled to dist/cli.js; bin/prsim.js and `npm start` load it). Importing
// this file runs the command line: tests and tools call main() from ./prsim.ts instead.
import { main } from './prsim.js';

// A reader that goes away (`prsim run | head -1`) is not an error: stop quietly, as a Unix filter does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
