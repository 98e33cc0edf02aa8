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

/**
 * Swagger UI's settings: no validator badge (it would call validator.swagger.io), links to
 * operations. The document's URL is found from this script's own (…/docs/assets/init.js →
 * …/openapi.json), so the page also works behind a gateway that serves it under a prefix
 * (the notification service's documents are at /notification/… there).
 */
const INIT_SCRIPT = `var specUrl = new URL('../../openapi.json', document.currentScript.src).href;
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: specUrl,
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

/**
 * The page, its files named relative to where it was asked for (`docs/assets/…` from `…/docs`,
 * `assets/…` from `…/docs/`): behind a gateway's path prefix they still resolve to this service.
 */
export function docsPage(title: string, trailingSlash = false): string {
  const assets = trailingSlash ? 'assets' : 'docs/assets';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="${assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assets}/swagger-ui-bundle.js"></script>
<script src="${assets}/init.js"></script>
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
