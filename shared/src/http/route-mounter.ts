/**
 * Mounts handlers on the Express app by route spec (route-spec.ts) and nothing else: the spec's
 * `auth` puts the authentication guards and the permission check in front, its schemas validate
 * params, headers, query and body (in that order) before the handler runs, and the handler gets
 * the parsed values. `assertAllMounted` then compares the app's router stack with the declared
 * API: a route mounted any other way, or a declared one never mounted, stops the service at start
 * (and so fails every test), which keeps the generated documents complete.
 */
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors.js';
import { routeKey, unknownProblemCodes, type ApiDefinition, type RequestSchemas, type RouteInput, type RouteSpec } from './route-spec.js';
import { fieldErrors, parseOrThrow } from './validate.js';

export type RouteHandler<R extends RequestSchemas> = (input: RouteInput<R>, req: Request, res: Response) => unknown;

/** The service's access checks, put in front of every route whose spec is not public. */
export interface RouteGuards {
  /** Checks the Bearer token (and sets req.auth). */
  authenticate: RequestHandler[];
  /** Refuses a request whose token lacks `permission`. */
  permission: (permission: string) => RequestHandler;
}

export class RouteMounter {
  private readonly declared: Map<string, RouteSpec>;
  private readonly mounted = new Set<string>();

  constructor(
    private readonly app: Express,
    private readonly api: ApiDefinition,
    routes: readonly RouteSpec[],
    private readonly guards?: RouteGuards,
  ) {
    this.declared = new Map(routes.map((r) => [routeKey(r.method, r.path), r]));
    const unknown = routes.flatMap((r) => unknownProblemCodes(api, r).map((code) => `${routeKey(r.method, r.path)} names ${code}`));
    if (unknown.length > 0) throw new Error(`problem codes missing from the API's catalogue: ${unknown.join('; ')}`);
  }

  /** Mounts `spec` with `handler`, after the guards its `auth` implies and any `before` middleware (a rate limit). */
  mount<R extends RequestSchemas>(spec: RouteSpec<R>, handler: RouteHandler<R>): void;
  mount<R extends RequestSchemas>(spec: RouteSpec<R>, before: RequestHandler[], handler: RouteHandler<R>): void;
  mount<R extends RequestSchemas>(spec: RouteSpec<R>, a: RequestHandler[] | RouteHandler<R>, b?: RouteHandler<R>): void {
    const before = Array.isArray(a) ? a : [];
    const handler = (Array.isArray(a) ? b : a) as RouteHandler<R>;
    const key = routeKey(spec.method, spec.path);
    if (this.declared.get(key) !== (spec as RouteSpec)) throw new Error(`${key} is mounted but not declared in the service's API (its ApiDefinition's routes)`);
    if (this.mounted.has(key)) throw new Error(`${key} is mounted twice`);
    this.mounted.add(key);
    const run = async (req: Request, res: Response) => {
      await handler(parseInput(this.api, spec, req), req, res);
    };
    this.app[spec.method](spec.path, inOneLayer([...this.guardsOf(spec), ...before], run));
  }

  private guardsOf(spec: RouteSpec): RequestHandler[] {
    if (spec.auth === 'public') return [];
    if (!this.guards) throw new Error(`${routeKey(spec.method, spec.path)} needs authentication, but the app has no guards`);
    const { authenticate, permission } = this.guards;
    return typeof spec.auth === 'object' ? [...authenticate, permission(spec.auth.permission)] : [...authenticate];
  }

  /**
   * Fails unless the app's routes are exactly the declared ones, each mounted through `mount`.
   * Called once every route is mounted (before the catch-all 404, behind which nothing is reached).
   */
  assertAllMounted(): void {
    const problems: string[] = [];
    for (const layer of this.app.router.stack as RouterLayer[]) {
      if (!layer.route) {
        if (layer.handle && 'stack' in layer.handle) problems.push('a sub-router is mounted: mount routes through RouteMounter instead');
        continue;
      }
      for (const method of Object.keys(layer.route.methods)) {
        const key = routeKey(method, layer.route.path);
        if (!this.mounted.has(key)) problems.push(`${key} is mounted without a route spec`);
      }
    }
    for (const key of this.declared.keys()) if (!this.mounted.has(key)) problems.push(`${key} is declared but never mounted`);
    if (problems.length > 0) {
      throw new Error(`the HTTP routes do not match the documented API (declare each with defineRoute, mount it with RouteMounter.mount): ${problems.join('; ')}`);
    }
  }
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: object;
}

function parseInput<R extends RequestSchemas>(api: ApiDefinition, spec: RouteSpec<R>, req: Request): RouteInput<R> {
  const schemas: RequestSchemas = spec.request ?? {};
  let params: unknown = req.params;
  if (schemas.params) {
    const parsed = schemas.params.safeParse(req.params);
    if (!parsed.success) {
      if (spec.notFound) throw AppError.notFound(spec.notFound, api.problems[spec.notFound]?.description);
      throw AppError.validation(fieldErrors(parsed.error), 'The path is not valid.');
    }
    params = parsed.data;
  }
  return {
    params,
    headers: schemas.headers ? parseOrThrow(schemas.headers, headersOf(schemas.headers.shape, req), 'request headers') : {},
    query: schemas.query ? parseOrThrow(schemas.query, req.query ?? {}, 'query string') : {},
    body: schemas.body ? parseOrThrow(schemas.body, req.body ?? {}) : undefined,
  } as RouteInput<R>;
}

/** The declared headers under their documented names (Node lowercases them). */
function headersOf(shape: Record<string, unknown>, req: Request): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(shape)) {
    const value = req.headers[name.toLowerCase()];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * The guards, any `before` middleware and the handler as one handler of the route: Express
 * would give each a layer of the route's own stack, and a pass through the router's `next` per
 * layer cost ~3 % of main-backend's CPU on the send path. They run as Express runs them: in
 * order, each calling `next` to go on; an error passed to `next`, thrown, or a rejected promise
 * goes to the error handler, and a middleware that answers without calling `next` ends it.
 */
function inOneLayer(middleware: RequestHandler[], handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  if (middleware.length === 0) return handler;
  return (req: Request, res: Response, next: NextFunction) => runFrom(0, middleware, handler, req, res, next);
}

function runFrom(i: number, middleware: RequestHandler[], handler: (req: Request, res: Response) => Promise<void>, req: Request, res: Response, next: NextFunction): void {
  const fn = middleware[i];
  if (!fn) {
    handler(req, res).catch((e: unknown) => next(e || new Error('Rejected promise')));
    return;
  }
  try {
    // 'route' and 'router' leave this route as they would have left its stack.
    const ret = fn(req, res, (err?: unknown) => (err ? next(err) : runFrom(i + 1, middleware, handler, req, res, next))) as unknown;
    if (ret instanceof Promise) ret.catch((e: unknown) => next(e || new Error('Rejected promise')));
  } catch (e) {
    next(e);
  }
}
