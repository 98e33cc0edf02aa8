/**
 * The express app every service starts from: security headers (helmet), CORS from config,
 * a JSON body limit, a request id that feeds the logs and travels on, request metrics,
 * /healthz, /readyz, /metrics, a problem-details 404 and one error handler for everything.
 * Services add their routes with `mount` before the 404 and error handler are attached.
 */
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { runWithRequestId, sanitizeRequestId } from '../request-context.js';
import { PROBLEM_CONTENT_TYPE, toAppError, toProblem } from './problem.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  corsOrigins: string[];
  bodyLimit: string;
  readiness: ReadinessCheck[];
  /** Number of proxies in front whose X-Forwarded-For is trusted (0: none). */
  trustProxy?: number | false;
  mount: (app: Express) => void;
}

export function createHttpApp(opts: HttpAppOptions): Express {
  const { logger, metrics } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy ?? false);
  app.set('etag', false);

  app.use((req, res, next) => {
    const requestId = sanitizeRequestId(req.get('x-request-id'));
    res.setHeader('X-Request-Id', requestId);
    res.locals.requestId = requestId;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Route pattern, not the raw path, keeps label cardinality bounded.
      const route = (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : req.baseUrl || 'other');
      metrics.httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      runWithRequestId(requestId, () =>
        logger.info('request', {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
        }),
      );
    });
    runWithRequestId(requestId, () => next());
  });

  app.use(helmet());
  app.use(
    cors({
      origin: opts.corsOrigins.length > 0 ? opts.corsOrigins : false,
      credentials: true,
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
      maxAge: 600,
    }),
  );
  app.use(express.json({ limit: opts.bodyLimit }));
  // A body must be JSON. Besides clear errors, this keeps HTML forms (which cannot send
  // application/json cross-site without a CORS preflight) from reaching any endpoint.
  app.use((req, _res, next) => {
    if (req.readable && hasBody(req) && !req.is('application/json')) {
      return next(new AppError(415, 'unsupported_media_type', 'Unsupported Media Type', 'Send the body as application/json.'));
    }
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
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
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  opts.mount(app);

  app.use((_req, _res, next) => next(AppError.notFound('route_not_found', 'No such route.')));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const appError = toAppError(err);
    if (appError.status >= 500 && !(err instanceof AppError)) {
      logger.error('unhandled error', { err, method: req.method, path: req.path });
    }
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(appError.headers ?? {})) res.setHeader(k, v);
    res.status(appError.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(toProblem(appError, req.originalUrl.split('?')[0])));
  });
  return app;
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

export type { Router };
