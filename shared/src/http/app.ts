/**
 * The HTTP app every service starts from, on Fastify (chosen for its per-request cost: see
 * docs/decisions/0010-fastify.md): security headers (helmet), CORS from config, JSON
 * bodies only and size-limited, a request id that feeds the logs and travels on, request
 * metrics and access log, /healthz, /readyz, /metrics, problem details for every error and
 * for unknown routes. Services add their routes in `mount`.
 */
import { AsyncResource } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import fastifyCors from '@fastify/cors';
import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { VerifiedAccessToken } from '../auth/access-token-verifier.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestLogLevel } from '../http-log-level.js';
import type { Metrics } from '../metrics.js';
import { runWithRequestId, sanitizeRequestId } from '../request-context.js';
import { bodyLimitError, urlLimitError } from './body-limits.js';
import { PROBLEM_CONTENT_TYPE, toAppError, toProblem } from './problem.js';

export type HttpApp = FastifyInstance;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the requireAuth guard (shared/src/auth/require-auth.ts). */
    auth: VerifiedAccessToken | null;
  }
}

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  corsOrigins: string[];
  /** Such as '100kb' (config checks the form). */
  bodyLimit: string;
  readiness: ReadinessCheck[];
  /** Number of proxies in front whose X-Forwarded-For is trusted (0: none). */
  trustProxy?: number | false;
  mount: (app: HttpApp) => void | Promise<void>;
}

const requestScope = Symbol('warren.requestScope');
type ScopedRequest = FastifyRequest & { [requestScope]?: AsyncResource };

export async function createHttpApp(opts: HttpAppOptions): Promise<HttpApp> {
  const { logger, metrics } = opts;
  const security = securityHeaders();
  const stamp = (reply: FastifyReply, requestId: string) => reply.headers(security).header('X-Request-Id', requestId);
  const app = fastify({
    logger: false,
    bodyLimit: parseSize(opts.bodyLimit),
    // Hop count as Express had it: the nearest `trustProxy` proxies' X-Forwarded-For entries.
    trustProxy: opts.trustProxy ? (_addr: string, hop: number) => hop < (opts.trustProxy as number) : false,
    // Our own id rule (safe characters, else a fresh UUID) instead of trusting the header as is.
    requestIdHeader: false,
    genReqId: (req) => sanitizeRequestId(req.headers['x-request-id']),
    // Idle keep-alive sockets close before a load balancer's typical 60 s and after clients' 4 s.
    keepAliveTimeout: 5_000,
    requestTimeout: 30_000,
    // While draining, requests on open keep-alive connections are still served (as Express did).
    return503OnClosing: false,
    // Express's routing: /users/ is /users, and paths match whatever their case.
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
    // Errors Fastify raises before any hook runs (a URL that does not decode, say) still get
    // problem details and the headers every answer carries.
    frameworkErrors: (err, req, reply) => {
      stamp(reply, req.id);
      sendProblem(req, reply, err.code === 'FST_ERR_BAD_URL' ? AppError.notFound('route_not_found', 'No such route.') : AppError.badRequest('bad_request', 'The request could not be processed.'));
    },
    // Requests Node's parser cannot even read (malformed HTTP, oversized headers, timeouts).
    clientErrorHandler: answerClientError,
  });
  app.server.headersTimeout = 10_000;
  app.decorateRequest('auth', null);

  // Security headers and the request id on every answer; the request id also in
  // AsyncLocalStorage for the logger and the publisher. The request's body events
  // run in another async context than its first hook, so the context is captured in an
  // AsyncResource on arrival and re-entered once the body is parsed (preValidation).
  app.addHook('onRequest', (req: ScopedRequest, reply, done) => {
    stamp(reply, req.id);
    runWithRequestId(req.id, () => {
      req[requestScope] = new AsyncResource('warren.http.request');
      done(urlLimitError(req.url));
    });
  });
  app.addHook('preValidation', (req: ScopedRequest, _reply, done) => {
    const scope = req[requestScope];
    if (scope) scope.runInAsyncScope(done);
    else done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    // Route pattern, not the raw path, keeps label cardinality bounded.
    const route = req.routeOptions.url ?? (reply.statusCode === 404 ? 'unmatched' : 'other');
    metrics.httpRequestDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    runWithRequestId(req.id, () =>
      logger.log(requestLogLevel(pathOf(req), reply.statusCode), 'request', { method: req.method, path: pathOf(req), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }),
    );
    done();
  });

  if (opts.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: opts.corsOrigins,
      credentials: true,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'Idempotency-Key'],
      methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'],
      maxAge: 600,
      // An OPTIONS request that is not a preflight goes on to the routes (a problem 404), not a text/plain 400.
      strictPreflight: false,
    });
  }
  // A body must be JSON (Fastify answers 415 for any other type). Besides clear errors, this
  // keeps HTML forms, which cannot send application/json cross-site without a CORS preflight,
  // from reaching any endpoint. An empty JSON body is no body (clients that always send the
  // header POST /auth/logout that way), not malformed JSON.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // Every parsed body then passes the edge's limits (no U+0000 in any text, bounded nesting).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    parseJson(req, body as string, (err, parsed) => {
      if (err) return done(err);
      const limitError = bodyLimitError(body as string, parsed);
      if (limitError) done(limitError);
      else done(null, parsed);
    });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      opts.readiness.map(async (r) => {
        try {
          return [r.name, (await r.check()) ? 'ok' : 'down'] as const;
        } catch {
          return [r.name, 'down'] as const;
        }
      }),
    );
    const ready = results.every(([, s]) => s === 'ok');
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  await opts.mount(app);

  app.setNotFoundHandler((req, reply) => {
    sendProblem(req, reply, AppError.notFound('route_not_found', 'No such route.'));
  });
  app.setErrorHandler((err, req, reply) => {
    const appError = toAppError(err);
    if (appError.code === 'database_unavailable' && !(err instanceof AppError)) {
      // Expected while the database restarts or fails over: a warning, not a stack trace per request.
      runWithRequestId(req.id, () => logger.warn('database unavailable', { err: (err as Error).message, method: req.method, path: pathOf(req) }));
    } else if (appError.status >= 500 && !(err instanceof AppError)) {
      runWithRequestId(req.id, () => logger.error('unhandled error', { err, method: req.method, path: pathOf(req) }));
    }
    sendProblem(req, reply, appError);
  });
  return app;
}

/**
 * helmet's headers for an API (they do not depend on the request), worked out once by running
 * its middleware against a recording response. Setting them per request as one object costs a
 * fraction of running helmet's fourteen middlewares every time (@fastify/helmet even rebuilds
 * helmet per request): ~0.04 ms of CPU per request on the benchmark machine.
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

function sendProblem(req: FastifyRequest, reply: FastifyReply, err: AppError): void {
  if (reply.sent) return;
  for (const [k, v] of Object.entries(err.headers ?? {})) reply.header(k, v);
  reply.code(err.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(toProblem(err, pathOf(req))));
}

/** What Fastify's default client-error handler writes, as problem details. */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError(408, 'request_timeout', 'Request Timeout', 'The request took too long to arrive.')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError(431, 'headers_too_large', 'Request Header Fields Too Large', 'The request headers are too large.')
        : AppError.badRequest('bad_request', 'The request could not be processed.');
  const body = JSON.stringify(toProblem(appError));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${appError.status} ${appError.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

function pathOf(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? req.url : req.url.slice(0, q);
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** '100kb' → 102400. */
export function parseSize(size: string): number {
  const m = /^(\d+)(b|kb|mb)$/i.exec(size);
  if (!m) throw new Error(`not a size: ${size}`);
  return Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number);
}
