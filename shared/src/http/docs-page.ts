/**
 * GET /docs: Swagger UI over the service's own /openapi.json, every file served by the service
 * from the swagger-ui-dist package, so the page loads nothing from another host. Its
 * Content-Security-Policy allows scripts, styles and requests to this origin only (images also
 * as data: URIs, which Swagger UI's stylesheet uses for its icons).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Swagger UI's settings: no validator badge (it would call validator.swagger.io), links to operations. */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

interface Asset {
  contentType: string;
  /** A file of swagger-ui-dist, or the text itself. */
  file?: string;
  text?: string;
}

const ASSETS: Record<string, Asset> = {
  'swagger-ui.css': { contentType: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { contentType: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js' },
  'favicon-32x32.png': { contentType: 'image/png', file: 'favicon-32x32.png' },
  'init.js': { contentType: 'text/javascript; charset=utf-8', text: INIT_SCRIPT },
};

/** The files /docs/assets/:file serves. */
export const DOCS_ASSET_NAMES = Object.keys(ASSETS) as [string, ...string[]];

export function docsPage(title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;
}

const loaded = new Map<string, Buffer>();

/** An asset's bytes (read once from the package) and type; undefined for a name not served. */
export function docsAsset(name: string): { contentType: string; body: Buffer } | undefined {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return undefined;
  let body = loaded.get(name);
  if (!body) {
    body = asset.text !== undefined ? Buffer.from(asset.text) : readFileSync(join(swaggerUiDir(), asset.file as string));
    loaded.set(name, body);
  }
  return { contentType: asset.contentType, body };
}

function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
