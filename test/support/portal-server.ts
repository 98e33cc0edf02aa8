/**
 * Serves s3-layout/ the way the bucket lays it out — /base, /admin, /manager, /employee from
 * s3-layout/dev and /admin_QA, /manager_QA, /employee_QA from s3-layout/qa — on 127.0.0.1, port 0.
 *
 * Every portal's config.js is answered with the real file's settings (partition, portal, title,
 * roles, features) but with the URLs replaced by those given to `pointAt`, so a browser test
 * drives the committed pages against an in-process stack.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const S3_LAYOUT = fileURLToPath(new URL('../../s3-layout/', import.meta.url));

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

export interface PortalServer {
  /** http://127.0.0.1:<port>, the origin to allow in CORS_ORIGINS. */
  origin: string;
  /** Every config.js served from now on names these URLs. */
  pointAt(urls: PortalUrls): void;
  /** Paths requested so far, in order (e.g. '/admin/config.js'). */
  requested: string[];
  stop(): Promise<void>;
}

/** The bucket folder a top-level name lives in: dev for base/admin/…, qa for the *_QA portals. */
function partitionOf(folder: string): 'dev' | 'qa' {
  return folder.endsWith('_QA') ? 'qa' : 'dev';
}

export async function startPortalServer(): Promise<PortalServer> {
  let urls: PortalUrls | null = null;
  const requested: string[] = [];

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    requested.push(path);
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
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
        return send(200, await readFile(join(file, 'index.html')), TYPES['.html']);
      }
      if (rest.length === 1 && rest[0] === 'config.js') {
        if (!urls) return send(503, 'no stack yet');
        const real = (await import(`${pathToFileURL(file).href}?t=${info.mtimeMs}`)) as { default: Record<string, unknown> };
        const config = { ...real.default, ...urls };
        return send(200, `export default Object.freeze(${JSON.stringify(config)});\n`, TYPES['.js']);
      }
      return send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      return send(404, 'not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
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
