// `prsim web`: serve the built page (dist/web/) on http://127.0.0.1:<port>, with node:http only.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WebServer {
  server: Server;
  url: string;
  port: number;
  dir: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Where print goes (default console.log); null prints nothing. */
  log?: ((line: string) => void) | null;
  /** Directory to serve (overrides --dir and the search for dist/web). */
  dir?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon',
};

export const WEB_USAGE = `prsim web [--port N] [--host ADDR] [--dir DIR]

Serve the browser page (built into dist/web/ by npm run build) and print its URL.
  --port N     port to listen on (default 8080; 0 picks a free one)
  --host ADDR  address to bind (default 127.0.0.1)
  --dir DIR    directory to serve (default: dist/web next to the CLI)`;

/** A bad option: an Error named UsageError (the CLI exits 2 on those). */
function usageError(msg: string): Error {
  const e = new Error(`web: ${msg} (see prsim web --help)`);
  e.name = 'UsageError';
  return e;
}

export function parseWebArgs(args: readonly string[]): { port: number; host: string; dir?: string; help: boolean } {
  const out: { port: number; host: string; dir?: string; help: boolean } = { port: 8080, host: '127.0.0.1', help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw usageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': case '-p': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 65535) throw usageError(`--port must be an integer 0..65535, got '${v}'`);
        out.port = n;
        break;
      }
      case '--host': out.host = value(); break;
      case '--dir': out.dir = value(); break;
      case '--help': case '-h': out.help = true; break;
      default: throw usageError(`unknown option '${a}'`);
    }
  }
  return out;
}

/** dist/web next to the bundled CLI (dist/cli.js), or from the sources (src/web/serve.ts -> dist/web). */
export function defaultWebDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'web'), join(here, '..', '..', 'dist', 'web'), join(process.cwd(), 'dist', 'web')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

/**
 * Serve the page; resolves once listening (the server keeps the process alive until closed), or with null after
 * printing the usage for --help. Bad options and a busy port reject with an Error whose message says what to do.
 */
export async function serveWeb(args: readonly string[] = [], opts: ServeOptions = {}): Promise<WebServer | null> {
  const log = opts.log === undefined ? (l: string) => console.log(l) : opts.log;
  const parsed = parseWebArgs(args);
  if (parsed.help) {
    log?.(WEB_USAGE);
    return null;
  }
  const dir = resolve(opts.dir ?? parsed.dir ?? defaultWebDir());
  for (const f of ['index.html', 'main.js', 'worker.js']) {
    if (!existsSync(join(dir, f))) {
      throw usageError(`${join(dir, f)} is missing; build the page first with 'npm run build'`);
    }
  }

  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(dir, path));
    if (file !== dir && !file.startsWith(dir + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let body: Buffer;
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      body = readFileSync(file);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });

  await new Promise<void>((ok, fail) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE') fail(usageError(`port ${parsed.port} on ${parsed.host} is in use; pick another with --port`));
      else if (e.code === 'EACCES') fail(usageError(`not allowed to listen on port ${parsed.port}; pick another with --port`));
      else fail(e);
    };
    const onListening = () => {
      server.off('error', onError);
      ok();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(parsed.port, parsed.host);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : parsed.port;
  const host = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
  const url = `http://${host}:${port}/`;
  log?.(`prsim web: serving ${dir} at ${url} (Ctrl-C to stop)`);
  return {
    server, url, port, dir,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections?.();
      server.close(() => ok());
    }),
  };
}
