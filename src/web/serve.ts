// The server of the browser page (dist/web/, built by npm run build), with node:http only; `prsim web` is
// src/cli/web.ts.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimError } from '../core/errors.js';

export interface WebServer {
  server: Server;
  url: string;
  port: number;
  dir: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Port to listen on (default 8080; 0 picks a free one). */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Directory to serve (default: dist/web next to the CLI, see defaultWebDir). */
  dir?: string;
  /** Where the URL line goes; none by default. */
  log?: ((line: string) => void) | null;
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

/** dist/web next to the bundled CLI (dist/cli.js), or from the sources (src/web/serve.ts -> dist/web). */
export function defaultWebDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'web'), join(here, '..', '..', 'dist', 'web'), join(process.cwd(), 'dist', 'web')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

/**
 * Serve the page; resolves once listening (the server keeps the process alive until closed). A page that is not
 * built is a SimError naming the missing file; a port that cannot be had rejects with the system's error
 * (EADDRINUSE, EACCES), a host that does not resolve with the resolver's.
 */
export async function startWebServer(opts: ServeOptions = {}): Promise<WebServer> {
  const port = opts.port ?? 8080;
  const hostName = opts.host ?? '127.0.0.1';
  const dir = resolve(opts.dir ?? defaultWebDir());
  for (const f of ['index.html', 'main.js', 'worker.js']) {
    if (!existsSync(join(dir, f))) {
      throw new SimError('BAD_CONFIG', `${join(dir, f)} is missing; build the page first with 'npm run build'`, { file: join(dir, f) });
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
    const onError = (e: Error) => {
      server.off('listening', onListening);
      fail(e);
    };
    const onListening = () => {
      server.off('error', onError);
      ok();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, hostName);
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const host = hostName.includes(':') ? `[${hostName}]` : hostName;
  const url = `http://${host}:${bound}/`;
  opts.log?.(`prsim web: serving ${dir} at ${url} (Ctrl-C to stop)`);
  return {
    server, url, port: bound, dir,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections?.();
      server.close(() => ok());
    }),
  };
}
