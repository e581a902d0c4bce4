// prsim web [--port N] [--host ADDR] [--dir DIR]: serve the browser page (src/web/serve.ts) and print its URL. The
// server keeps the process alive; the Io's signal, where there is one, closes it.
import { SimError } from '../core/errors.js';
import { startWebServer, type WebServer } from '../web/serve.js';
import { parse } from './args.js';
import type { Io } from './io.js';
import { UsageError } from './usage-error.js';

export const WEB_USAGE = `usage: prsim web [--port N] [--host ADDR] [--dir DIR]

Serve the browser page (built into dist/web/ by npm run build) and print its URL.
  --port N     port to listen on (default 8080; 0 picks a free one)
  --host ADDR  address to bind (default 127.0.0.1)
  --dir DIR    directory to serve (default: dist/web next to the CLI)
`;

const usage = (msg: string) => new UsageError(`web: ${msg} (see prsim web --help)`);

/** The server, or null after --help. */
export async function startWeb(args: string[], io: Io): Promise<WebServer | null> {
  const { values: v } = parse('web', args, { port: { type: 'string', short: 'p' }, host: { type: 'string' }, dir: { type: 'string' } }, 0);
  if (v.help) {
    io.out(WEB_USAGE);
    return null;
  }
  const port = v.port ?? '8080';
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw usage(`--port must be an integer 0..65535, got '${port}'`);
  const host = v.host ?? '127.0.0.1';
  try {
    const server = await startWebServer({
      port: Number(port), host, ...(v.dir !== undefined ? { dir: v.dir } : {}), log: (line) => io.out(`${line}\n`),
    });
    io.signal?.addEventListener('abort', () => void server.close(), { once: true });
    return server;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EADDRINUSE') throw usage(`port ${port} on ${host} is in use; pick another with --port`);
    if (code === 'EACCES') throw usage(`not allowed to listen on port ${port}; pick another with --port`);
    if (e instanceof SimError) throw usage(e.message);
    throw e;
  }
}

export async function webCommand(args: string[], io: Io): Promise<number> {
  await startWeb(args, io);
  return 0;
}
