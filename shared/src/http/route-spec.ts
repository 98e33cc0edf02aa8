/**
 * A route's declaration: method, path, who may call it, the zod schemas its input is validated
 * with, its answers and the problem codes it can give. The HTTP app mounts handlers only by
 * spec (route-mounter.ts) and the OpenAPI document is generated from the same specs
 * (openapi.ts), so what is documented is what is validated and enforced.
 */
import type { z } from 'zod';
import type { ProblemCatalog } from './problem-codes.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Anyone; any valid access token of a live session; or such a token whose scope holds the permission. */
export type RouteAuth = 'public' | 'bearer' | { permission: string };

export interface RequestSchemas {
  /** Path parameters (Express gives strings). */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Keys as documented (`Idempotency-Key`); matched case-insensitively. */
  headers?: z.ZodObject;
  /** A missing body is validated as `{}`. */
  body?: z.ZodType;
}

export interface ResponseSpec {
  description: string;
  /** Media type of the body (default application/json); no schema and no media type: no body. */
  contentType?: string;
  schema?: z.ZodType;
  /** Checked against `schema` by a test. */
  example?: unknown;
  /** Response headers worth knowing (Retry-After, Idempotency-Key ...). */
  headers?: z.ZodObject;
}

export interface RouteSpec<R extends RequestSchemas = RequestSchemas> {
  method: HttpMethod;
  /** Express form, `:name` for a parameter: `/auth/sessions/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  request?: R;
  /** An example body, checked against `request.body` by a test. */
  bodyExample?: unknown;
  /**
   * A path parameter its schema refuses names nothing that exists: answer 404 with this code
   * (an out-of-range id is "not found", never a 400 or a 5xx). Without it: 400 validation_failed.
   */
  notFound?: string;
  /** Success answers by status. */
  responses: Record<number, ResponseSpec>;
  /** Problem codes (from the API's catalogue) beyond what the request schemas, `auth` and `notFound` imply. */
  problems?: readonly string[];
}

/** Keeps the schemas' types, so a handler gets its parsed input typed. */
export function defineRoute<const R extends RequestSchemas>(spec: RouteSpec<R>): RouteSpec<R> {
  return spec;
}

type Parsed<S, Otherwise> = S extends z.ZodType ? z.output<S> : Otherwise;

/** What a handler gets: each part parsed (defaults applied, text trimmed) by its schema. */
export interface RouteInput<R extends RequestSchemas> {
  params: Parsed<R['params'], Record<string, never>>;
  query: Parsed<R['query'], Record<string, never>>;
  headers: Parsed<R['headers'], Record<string, never>>;
  body: Parsed<R['body'], undefined>;
}

/** A service's HTTP API as documented: what its OpenAPI document and docs page are made of. */
export interface ApiDefinition {
  title: string;
  /** Markdown, the first thing a reader sees. */
  description: string;
  /** The service's own routes; /healthz, /readyz, /metrics and the documents are added by the app. */
  routes: readonly RouteSpec[];
  /** Schemas drawn once under a name (`#/components/schemas/<name>`) wherever they occur. */
  schemas?: Record<string, z.ZodType>;
  /** Serve /openapi.json and /docs (a service without an API of its own need not). */
  docs: boolean;
  /** The release the document describes (`info.version`). */
  version: string;
  /** Every problem code a route may name, with its status and meaning (the kit's KIT_PROBLEM_CODES and the system's own). */
  problems: ProblemCatalog;
  /** What the app's guards answer: every route needing a token can give `token`, one needing a permission also `permission`. */
  guardProblems: { token: readonly string[]; permission: readonly string[] };
  /** How to get the Bearer token (the security scheme's description). */
  bearerDescription: string;
}

/** Every code `route` names that `api`'s catalogue lacks (a typo, or a code never catalogued). */
export function unknownProblemCodes(api: ApiDefinition, route: RouteSpec): string[] {
  const named = [...(route.problems ?? []), ...(route.notFound ? [route.notFound] : [])];
  return named.filter((code) => !Object.hasOwn(api.problems, code));
}

/** `METHOD /path` as the app and the documents compare routes. */
export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

const SEGMENT = /^(?:[A-Za-z0-9._-]+|:[A-Za-z][A-Za-z0-9]*)$/;

/** `/auth/sessions/:id` → `/auth/sessions/{id}`; paths with other Express syntax are refused. */
export function openApiPath(path: string): string {
  const segments = path.split('/').slice(1);
  if (!path.startsWith('/') || segments.some((s) => !SEGMENT.test(s))) {
    throw new Error(`route path ${path}: only literal segments and :name parameters can be documented`);
  }
  return `/${segments.map((s) => (s.startsWith(':') ? `{${s.slice(1)}}` : s)).join('/')}`;
}
