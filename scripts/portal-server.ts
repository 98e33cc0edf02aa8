/**
 * Serves s3-layout/ the way the bucket lays it out — /base, /admin, /manager, /employee from
 * s3-layout/dev and /admin_QA, /manager_QA, /employee_QA from s3-layout/qa. Used by
 * `npm run portals` (scripts/portals.ts) and by the browser tests (test/support/portal-server.ts).
 *
 * Every portal's config.js is answered with the real file's settings (partition, portal, title,
 * roles, features) but with the URLs replaced by those given to `pointAt` (or made per request
 * from the host name the browser used), so the committed pages run against a local stack.
 * Pages are served with a strict Content-Security-Policy (scripts, styles and requests to this
 * origin and the stack's only), the one the bucket's CDN should send.
 *
 * The Host header is answered only for the loopback names and the host listened on (421
 * otherwise): it names the stack in config.js and the CSP, so a page reached under another name
 * (DNS rebinding, a forged header) never gets a config pointing at that name. A request the
 * server cannot read (a malformed escape, `/admin/%ZZ`) is a 400, and nothing a request does
 * stops the server.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const S3_LAYOUT = fileURLToPath(new URL('../s3-layout/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface PortalUrls {
  apiUrl: string;
  notificationUrl: string;
  wsUrl: string;
}

export interface PortalServerOptions {
  /** Default 127.0.0.1. Also accepted as the Host of a request, with localhost, 127.0.0.1 and [::1]. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** The stack's URLs, or how to make them from the host name a request came to (`localhost`, `127.0.0.1`). */
  urls?: PortalUrls | ((hostname: string) => PortalUrls);
}

export interface PortalServer {
  /** http://<host>:<port>, the origin to allow in CORS_ORIGINS. */
  origin: string;
  port: number;
  /** Every config.js served from now on names these URLs. */
  pointAt(urls: PortalUrls | ((hostname: string) => PortalUrls)): void;
  /** Paths requested so far, in order (e.g. '/admin/config.js'). */
  requested: string[];
  stop(): Promise<void>;
}

/** The bucket folder a top-level name lives in: dev for base/admin/…, qa for the *_QA portals. */
function partitionOf(folder: string): 'dev' | 'qa' {
  return folder.endsWith('_QA') ? 'qa' : 'dev';
}

/** The policy of every page: nothing from any origin but this one and the stack's. */
export function contentSecurityPolicy(urls: PortalUrls | null): string {
  const stack = urls ? [...new Set([urls.apiUrl, urls.notificationUrl, urls.wsUrl].map((u) => new URL(u).origin))] : [];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${stack.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The host names a request may name (without brackets or port), lower case. */
function allowedHostnames(listenHost: string): Set<string> {
  return new Set(['localhost', '127.0.0.1', '::1', bare(listenHost)]);
}

/** `[::1]` → `::1`, lower case. */
function bare(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** The host name of a Host header (`localhost:8080` → `localhost`, `[::1]:8080` → `::1`), or null if it is not one. */
export function hostnameOf(host: string | undefined): string | null {
  if (!host) return null;
  try {
    const url = new URL(`http://${host}`);
    // Only a host and a port: `a@b`, `a/b` and the like parse, but are no Host header.
    if (url.host !== host.toLowerCase() && url.host !== host.toLowerCase().replace(/:80$/, '')) return null;
    return bare(url.hostname);
  } catch {
    return null;
  }
}

export async function startPortalServer(opts: PortalServerOptions = {}): Promise<PortalServer> {
  let urls: PortalUrls | ((hostname: string) => PortalUrls) | null = opts.urls ?? null;
  const host = opts.host ?? '127.0.0.1';
  const allowed = allowedHostnames(host);
  const urlsFor = (hostname: string): PortalUrls | null => (typeof urls === 'function' ? urls(hostname) : urls);
  const requested: string[] = [];

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    handle(req, send).catch(() => {
      // Whatever went wrong, this request ends and the server goes on.
      if (!res.headersSent) send(500, 'internal error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, send: (status: number, body: string | Buffer, type?: string, headers?: Record<string, string>) => void): Promise<void> {
    const hostname = hostnameOf(req.headers.host);
    if (hostname === null || !allowed.has(hostname)) return send(421, `this server answers to ${[...allowed].join(', ')} only`);
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request: malformed URL');
    }
    requested.push(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');

    const [folder = '', ...rest] = path.split('/').filter(Boolean);
    if (!folder) return send(404, 'not found');
    // A qa portal's shared/ is what s3-sync.sh qa publishes there: a copy of dev/base.
    const fromBase = partitionOf(folder) === 'qa' && rest[0] === 'shared';
    const partitionRoot = join(S3_LAYOUT, fromBase ? 'dev' : partitionOf(folder));
    const file = normalize(fromBase ? join(partitionRoot, 'base', ...rest.slice(1)) : join(partitionRoot, folder, ...rest));
    if (!file.startsWith(partitionRoot + sep)) return send(403, 'forbidden');

    try {
      const info = await stat(file);
      if (info.isDirectory()) {
        // Like an S3 website endpoint: /admin redirects to /admin/, which serves index.html.
        if (!path.endsWith('/')) return send(302, '', undefined, { location: `${path}/` });
        return send(200, await readFile(join(file, 'index.html')), TYPES['.html'], {
          'content-security-policy': contentSecurityPolicy(urlsFor(hostname)),
          'referrer-policy': 'no-referrer',
        });
      }
      if (rest.length === 1 && rest[0] === 'config.js') {
        const stack = urlsFor(hostname);
        if (!stack) return send(503, 'no stack yet');
        const real = (await import(`${pathToFileURL(file).href}?t=${info.mtimeMs}`)) as { default: Record<string, unknown> };
        const config = { ...real.default, ...stack };
        return send(200, `export default Object.freeze(${JSON.stringify(config)});\n`, TYPES['.js']);
      }
      return send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      return send(404, 'not found');
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    pointAt(next) {
      urls = next;
    },
    requested,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
