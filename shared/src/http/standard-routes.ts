/**
 * The routes every service's app has: /healthz, /readyz, /metrics; and, for a service with a
 * documented API, /openapi.json and the /docs page with its assets.
 */
import { z } from 'zod';
import type { Metrics } from '../metrics.js';
import { DOCS_ASSET_NAMES, DOCS_CSP, docsAsset, docsPage } from './docs-page.js';
import type { RouteMounter } from './route-mounter.js';
import { defineRoute, type ApiDefinition, type RouteSpec } from './route-spec.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

/**
 * A check that has not answered by then counts as down. A database whose connections stopped
 * answering (a partition) would otherwise hold /readyz until the pool's 15 s query timeout,
 * past any load balancer's probe timeout, and the answer would not say what is down.
 */
export const READINESS_CHECK_TIMEOUT_MS = 2000;

const readinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.enum(['ok', 'down'])),
});

const health = {
  healthz: defineRoute({
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness: 200 while the process runs',
    tag: 'operations',
    auth: 'public',
    responses: { 200: { description: 'The process runs.', schema: z.object({ status: z.literal('ok') }), example: { status: 'ok' } } },
  }),
  readyz: defineRoute({
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness: 200 only while the database and the broker connections work and every consumer consumes',
    description:
      'What a load balancer reads: 503 when this replica cannot reach its own database or the broker (a check not answering within 2 s is down), or when one of its queue consumers is not consuming (`consumers`: the broker cancelled it and subscribing again is being refused or retried). Auth being unreachable does not make main-backend or notification replicas unready: they serve what they can and answer 503 per request.',
    tag: 'operations',
    auth: 'public',
    responses: {
      200: { description: 'Every dependency works.', schema: readinessSchema, example: { status: 'ready', checks: { database: 'ok', broker: 'ok', consumers: 'ok' } } },
      503: { description: 'A dependency is down: `checks` says which.', schema: readinessSchema, example: { status: 'not_ready', checks: { database: 'ok', broker: 'down', consumers: 'down' } } },
    },
  }),
  metrics: defineRoute({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics (for the operators\u2019 scraper)',
    tag: 'operations',
    auth: 'public',
    responses: { 200: { description: 'Prometheus text exposition format.', contentType: 'text/plain; version=0.0.4; charset=utf-8', schema: z.string() } },
  }),
};

const docs = {
  openapi: defineRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This OpenAPI 3.1 document',
    description: 'Generated from the schemas that validate each request. `npm run docs` writes the same document to docs/api/.',
    tag: 'documents',
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document.', schema: z.record(z.string(), z.unknown()) } },
  }),
  page: defineRoute({
    method: 'get',
    path: '/docs',
    operationId: 'docsPage',
    summary: 'This document as a page for people (Swagger UI, served by the service itself)',
    tag: 'documents',
    auth: 'public',
    responses: { 200: { description: 'An HTML page loading only this origin\u2019s files.', contentType: 'text/html; charset=utf-8', schema: z.string() } },
  }),
  asset: defineRoute({
    method: 'get',
    path: '/docs/assets/:file',
    operationId: 'docsAsset',
    summary: 'A file of the docs page',
    tag: 'documents',
    auth: 'public',
    request: { params: z.object({ file: z.enum(DOCS_ASSET_NAMES) }) },
    notFound: 'route_not_found',
    responses: { 200: { description: 'The stylesheet, a script or the icon.', contentType: '*/*', schema: z.string() } },
  }),
};

/** The standard routes of an app serving `api`. */
export function standardRoutes(api: ApiDefinition): RouteSpec[] {
  return [...Object.values(health), ...(api.docs ? Object.values(docs) : [])];
}

export function mountStandardRoutes(
  routes: RouteMounter,
  opts: { api: ApiDefinition; readiness: ReadinessCheck[]; metrics: Metrics; document: () => unknown },
): void {
  routes.mount(health.healthz, (_input, _req, res) => {
    res.json({ status: 'ok' });
  });
  const checks = opts.readiness.map((r) => ({ name: r.name, ok: coalesced(r.check) }));
  routes.mount(health.readyz, async (_input, _req, res) => {
    const results = await Promise.all(checks.map(async (r) => [r.name, (await r.ok()) ? 'ok' : 'down'] as const));
    const ready = results.every(([, s]) => s === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  routes.mount(health.metrics, async (_input, _req, res) => {
    res.setHeader('Content-Type', opts.metrics.registry.contentType);
    res.send(await opts.metrics.registry.metrics());
  });
  if (!opts.api.docs) return;

  // Generated on first request, then kept: the routes do not change while the process runs.
  let document: string | undefined;
  routes.mount(docs.openapi, (_input, _req, res) => {
    document ??= JSON.stringify(opts.document());
    res.type('application/json').send(document);
  });
  routes.mount(docs.page, (_input, req, res) => {
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.type('text/html').send(docsPage(opts.api.title, req.path.endsWith('/')));
  });
  routes.mount(docs.asset, ({ params }, _req, res) => {
    const asset = docsAsset(params.file) as NonNullable<ReturnType<typeof docsAsset>>;
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type(asset.contentType).send(asset.body);
  });
}

/** How long a readiness check's answer is reused: probes from every balancer share one check. */
export const READINESS_CACHE_MS = 1000;

/**
 * A readiness check that runs at most once at a time, counts as down when it throws or has not
 * answered within READINESS_CHECK_TIMEOUT_MS, and whose answer is reused for READINESS_CACHE_MS:
 * /readyz is public, and a flood of it (or many balancers probing at once) must not become a
 * flood of database queries, nor pile up behind one that hangs.
 */
function coalesced(check: ReadinessCheck['check']): () => Promise<boolean> {
  let inFlight: Promise<boolean> | undefined;
  let last: { ok: boolean; at: number } | undefined;
  const once = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READINESS_CHECK_TIMEOUT_MS)));
    try {
      return await Promise.race([Promise.resolve().then(check), late]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  return () => {
    if (last && Date.now() - last.at < READINESS_CACHE_MS) return Promise.resolve(last.ok);
    inFlight ??= once().then((ok) => {
      last = { ok, at: Date.now() };
      inFlight = undefined;
      return ok;
    });
    return inFlight;
  };
}
