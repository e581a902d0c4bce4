// Entry point of the prsim command (bundled to dist/cli.js; bin/prsim.js and `npm start` load it). Importing
// this file runs the command line: tests and tools call main() from ./prsim.ts instead.
import { main } from './prsim.js';

process.exitCode = await main(process.argv.slice(2));
