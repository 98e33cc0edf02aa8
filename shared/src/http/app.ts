/**
 * The HTTP app every service starts from, on Express 5 (the package the design card names; see
 * docs/decisions/0014-express-again.md): security headers (helmet's, worked out once), CORS from
 * config, JSON bodies only and size-limited, a request id that feeds the logs and travels on,
 * request metrics and access log, /healthz, /readyz, /metrics (and /openapi.json, /docs for a
 * documented API), problem details for every error and for unknown routes. Services mount their
 * routes in `mount`, by route spec only (route-mounter.ts): the app refuses to start with a route
 * its OpenAPI document would not show.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestLogLevel } from '../http-log-level.js';
import type { Metrics } from '../metrics.js';
import { runWithRequestId, sanitizeRequestId } from '../request-context.js';
import { continueTrace } from '../trace-context.js';
import { urlLimitError } from './body-limits.js';
import { startedAt } from './request-shapes.js';
import { hasBody, jsonBody as jsonBodyMiddleware, jsonBodyReader } from './json-body.js';
import { openApiDocument } from './openapi.js';
import { PROBLEM_CONTENT_TYPE, toAppError, toProblem } from './problem.js';
import { RouteMounter, type RouteGuards } from './route-mounter.js';
import type { ApiDefinition } from './route-spec.js';
import { mountStandardRoutes, standardRoutes, type ReadinessCheck } from './standard-routes.js';

export type HttpApp = Express;
export type { NextFunction, Request, RequestHandler, Response };

declare module 'express-serve-static-core' {
  interface Request {
    /** Set on arrival: the client's X-Request-Id if safe, else a fresh UUID. */
    requestId: string;
    /** Set on arrival: the client's traceparent continued if valid, else a new trace. */
    traceparent: string;
  }
}

export type { ReadinessCheck };

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  corsOrigins: string[];
  /** Such as '100kb' (config checks the form). */
  bodyLimit: string;
  /**
   * Paths (as their route declares them) whose route parses its own body with `jsonBody`, after
   * its guards and with a limit of its own: the edge leaves their body unread, so a client that
   * is not allowed there cannot make the service buffer a large body first.
   */
  ownBodyPaths?: string[];
  readiness: ReadinessCheck[];
  /** Number of proxies in front whose X-Forwarded-For is trusted (0: none). */
  trustProxy?: number | false;
  /** The routes the service serves besides the standard ones, as documented. */
  api: ApiDefinition;
  /** The access checks in front of every route whose spec is not public. */
  guards?: RouteGuards;
  /** Mounts a handler for each of `api.routes` (nothing else can be mounted). */
  mount: (routes: RouteMounter) => void | Promise<void>;
}

/** Per-response bookkeeping, kept on the response itself so no closure is made per request. */
type TimedResponse = Response & { [startedAt]?: number };

export async function createHttpApp(opts: HttpAppOptions): Promise<HttpApp> {
  const { logger, metrics } = opts;
  const security = Object.entries(securityHeaders());
  const app = express();
  app.disable('x-powered-by');
  // No ETag: answers are API documents, never revalidated; hashing every body costs CPU.
  app.set('etag', false);
  // Hop count: the nearest `trustProxy` proxies' X-Forwarded-For entries are believed.
  app.set('trust proxy', opts.trustProxy || false);
  // Express's defaults, stated because clients rely on them: /users/ is /users, and paths match
  // whatever their case.
  app.set('strict routing', false);
  app.set('case sensitive routing', false);

  // Every answer, success or problem, carries the security headers and the request id; the
  // request id also lives in AsyncLocalStorage for the logger and the publisher. One listener
  // function for all requests records the metrics and the access log.
  function onFinish(this: TimedResponse): void {
    const req = this.req;
    const seconds = (performance.now() - (this[startedAt] ?? 0)) / 1000;
    // Route pattern, not the raw path, keeps label cardinality bounded.
    const route = (req.route?.path as string | undefined) ?? (this.statusCode === 404 ? 'unmatched' : 'other');
    const status = this.statusCode;
    metrics.httpRequestDuration.observe({ method: req.method, route, status: String(status) }, seconds);
    const level = requestLogLevel(pathOf(req), status);
    // Below the level (LOG_LEVEL=warn in load tests) the line is not even built.
    if (!logger.isLevelEnabled(level)) return;
    runWithRequestId(
      req.requestId,
      () => logger.log(level, 'request', { method: req.method, path: pathOf(req), status, ms: Math.round(seconds * 1000) }),
      req.traceparent,
    );
  }

  const allowOrigins = opts.corsOrigins.length > 0
    ? cors({
        origin: opts.corsOrigins,
        credentials: true,
        exposedHeaders: ['X-Request-Id', 'Retry-After', 'Idempotency-Key'],
        methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'],
        maxAge: 600,
      })
    : undefined;
  const readBody = jsonBodyReader(opts.bodyLimit);
  const ownBody = new Set((opts.ownBodyPaths ?? []).map(routePath));

  // The route runs in the request's async context: entered once the body is read (at once when
  // there is none), since the body's events run in another context than this middleware.
  const continueRequest = (req: Request, next: NextFunction, err?: unknown) => runWithRequestId(req.requestId, () => next(err), req.traceparent);
  const edgeBody = (req: Request, res: Response, next: NextFunction) => {
    if (ownBody.size > 0 && hasBody(req) && ownBody.has(routePath(pathOf(req)))) return continueRequest(req, next);
    readBody(req, res, (err) => continueRequest(req, next, err));
  };
  const securityNames = security.map(([name]) => name);
  const securityValues = security.map(([, value]) => value);

  // What every request goes through before its route, in one middleware (one router layer, not
  // three): arrival (ids, headers, timing), CORS when configured, the URL's limits, the body.
  // Nothing in it is a named closure made per request: under tsx (npm start, the benchmark)
  // each would cost a defineProperty call (esbuild's keepNames), ~0.3 µs.
  app.use((req: Request, res: TimedResponse, next: NextFunction) => {
    const requestId = sanitizeRequestId(req.headers['x-request-id']);
    req.requestId = requestId;
    // Never echoed: a traceparent only travels on, to the messages this request publishes.
    req.traceparent = continueTrace(req.headers.traceparent);
    for (let i = 0; i < securityNames.length; i++) res.setHeader(securityNames[i] as string, securityValues[i] as string);
    res.setHeader('X-Request-Id', requestId);
    res[startedAt] = performance.now();
    res.once('finish', onFinish);
    const urlError = urlLimitError(req.url);
    if (urlError) return continueRequest(req, next, urlError);
    if (!allowOrigins) return edgeBody(req, res, next);
    allowOrigins(req, res, (err?: unknown) => (err ? continueRequest(req, next, err) : edgeBody(req, res, next)));
  });

  const routes = new RouteMounter(app, opts.api, [...standardRoutes(opts.api), ...opts.api.routes], opts.guards);
  mountStandardRoutes(routes, { api: opts.api, readiness: opts.readiness, metrics, document: () => openApiDocument(opts.api) });
  await opts.mount(routes);
  routes.assertAllMounted();

  app.use((req: Request, res: Response) => {
    sendProblem(req, res, AppError.notFound('route_not_found', 'No such route.'));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const appError = toAppError(err);
    if (appError.code === 'database_unavailable' && !(err instanceof AppError)) {
      // Expected while the database restarts or fails over: a warning, not a stack trace per request.
      runWithRequestId(req.requestId, () => logger.warn('database unavailable', { err: (err as Error).message, method: req.method, path: pathOf(req) }), req.traceparent);
    } else if (appError.status >= 500 && !(err instanceof AppError)) {
      runWithRequestId(req.requestId, () => logger.error('unhandled error', { err, method: req.method, path: pathOf(req) }), req.traceparent);
    }
    sendProblem(req, res, appError);
  });
  return app;
}

/**
 * helmet's headers for an API (they do not depend on the request), worked out once by running
 * its middleware against a recording response. Setting them per request from one list costs a
 * fraction of running helmet's fourteen middlewares every time: ~0.04 ms of CPU per request on
 * the benchmark machine.
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name] = String(value)),
    removeHeader: (name: string) => void delete headers[name],
  };
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
}

/** A route's own body (`ownBodyPaths`), read after its guards: see json-body.ts. */
export function jsonBody(limit: string | number): RequestHandler {
  return jsonBodyMiddleware(limit, (req, fn) => runWithRequestId(req.requestId, fn, req.traceparent));
}

/** A path as routing compares it: case-insensitive, one trailing slash ignored (see the settings above). */
function routePath(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

function sendProblem(req: Request, res: Response, err: AppError): void {
  if (res.headersSent) {
    // Too late for a problem document: end the exchange so the client does not wait for more.
    if (!res.writableEnded) req.socket.destroy();
    return;
  }
  for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
  res.status(err.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(toProblem(err, pathOf(req))));
}

function pathOf(req: IncomingMessage & { originalUrl?: string }): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
