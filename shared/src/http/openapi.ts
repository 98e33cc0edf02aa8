/**
 * The OpenAPI 3.1 document of a service, generated (zod-openapi, over zod's own JSON Schema
 * conversion) from the route specs the app is mounted from: the same zod schemas that validate
 * requests describe them, the declared problem codes become the error answers, and `auth`
 * becomes the bearer security requirement. Served at /openapi.json; `npm run docs` writes it to
 * docs/api/. See docs/decisions/0019-generated-api-documents.md.
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { AppError } from '../errors.js';
import { PROBLEM_CONTENT_TYPE, problemDetailsSchema, toProblem } from './problem.js';
import type { ProblemCodeInfo } from './problem-codes.js';
import { openApiPath, unknownProblemCodes, type ApiDefinition, type ResponseSpec, type RouteSpec } from './route-spec.js';
import { standardRoutes } from './standard-routes.js';

export type OpenApiDocument = ReturnType<typeof createDocument>;

const BEARER = 'bearerAuth';

const ERRORS_INTRO = [
  '## Errors',
  '',
  'Every 4xx and 5xx answer is RFC 9457 problem details (`application/problem+json`) with a stable',
  '`code`: branch on it, not on the text. Each operation lists the codes it can answer. Besides them,',
  'any request can get `404 route_not_found` (no such route or method), `408 request_timeout`,',
  '`431 headers_too_large` and `400 bad_request` (a request Node cannot parse). Answers with',
  '`Retry-After` (423, 429, 503) say how many seconds to wait before trying again.',
].join('\n');

const retryAfter = z.object({
  'Retry-After': z.string().regex(/^\d+$/).meta({ description: 'Seconds to wait before trying again.', example: '5' }),
});

/** The document of `api`: its routes and the app's standard ones. */
export function openApiDocument(api: ApiDefinition): OpenApiDocument {
  // The service's own routes first: they are what a reader came for.
  const routes = [...api.routes, ...standardRoutes(api)];
  const paths: Record<string, Record<string, ZodOpenApiOperationObject>> = {};
  for (const route of routes) {
    const unknown = unknownProblemCodes(api, route);
    if (unknown.length > 0) throw new Error(`${route.method.toUpperCase()} ${route.path} names problem codes missing from the catalogue: ${unknown.join(', ')}`);
    const path = openApiPath(route.path);
    (paths[path] ??= {})[route.method] = operation(api, route);
  }
  const codes = [...new Set(routes.flatMap((r) => problemCodes(api, r)))].sort();
  return createDocument(
    {
      openapi: '3.1.0',
      info: { title: api.title, version: api.version, description: `${api.description}\n\n${ERRORS_INTRO}` },
      tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
      paths,
      components: {
        schemas: { Problem: problemDetailsSchema, ...api.schemas },
        examples: Object.fromEntries(codes.map((c) => [c, { summary: catalogued(api, c).description, value: problemExample(api, c) }])),
        securitySchemes: {
          [BEARER]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: api.bearerDescription,
          },
        },
      },
    },
    { override: openAnswers },
  );
}

/**
 * Answers may gain fields in later releases (the contract only ever adds): their objects are
 * drawn open, so a client validating with the document does not break on an addition. Request
 * bodies stay as strict as the server is.
 */
function openAnswers({ jsonSchema, io }: { jsonSchema: { additionalProperties?: unknown }; io: 'input' | 'output' }): void {
  if (io === 'output' && jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
}

function operation(api: ApiDefinition, route: RouteSpec): ZodOpenApiOperationObject {
  const request = route.request ?? {};
  const permission = typeof route.auth === 'object' ? route.auth.permission : undefined;
  const description = [route.description, permission && `Needs the permission \`${permission}\`.`].filter(Boolean).join('\n\n');
  const op: ZodOpenApiOperationObject = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    responses: responses(api, route),
  };
  if (description) op.description = description;
  if (route.auth !== 'public') op.security = [{ [BEARER]: [] }];
  if (permission) op['x-permission'] = permission;
  const params = {
    ...(request.params ? { path: request.params } : {}),
    ...(request.query ? { query: request.query } : {}),
    ...(request.headers ? { header: request.headers } : {}),
  };
  if (Object.keys(params).length > 0) op.requestParams = params;
  if (request.body) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: request.body, ...(route.bodyExample === undefined ? {} : { example: route.bodyExample }) } },
    };
  }
  return op;
}

function responses(api: ApiDefinition, route: RouteSpec): ZodOpenApiResponsesObject {
  const out: Record<`${number}`, ZodOpenApiResponseObject> = {};
  for (const [status, spec] of Object.entries(route.responses) as [`${number}`, ResponseSpec][]) {
    const response: ZodOpenApiResponseObject = { description: spec.description };
    if (spec.schema || spec.contentType) {
      response.content = {
        [spec.contentType ?? 'application/json']: {
          schema: spec.schema ?? z.string(),
          ...(spec.example === undefined ? {} : { example: spec.example }),
        },
      };
    }
    if (spec.headers) response.headers = spec.headers;
    out[status] = response;
  }
  const byStatus = new Map<number, string[]>();
  for (const code of problemCodes(api, route)) {
    const { status } = catalogued(api, code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) out[`${status}`] = problemResponse(api, route, status, codes);
  return out as ZodOpenApiResponsesObject;
}

/** What the route can answer: what its parts imply, then what it declares, each code once. */
export function problemCodes(api: ApiDefinition, route: RouteSpec): string[] {
  const request = route.request ?? {};
  const codes = ['invalid_text'];
  if (request.params) codes.push(route.notFound ?? 'validation_failed');
  if (request.query || request.headers) codes.push('validation_failed');
  if (request.body) codes.push('malformed_json', 'validation_failed', 'body_too_deep', 'payload_too_large', 'unsupported_media_type');
  if (route.auth !== 'public') codes.push(...api.guardProblems.token);
  if (typeof route.auth === 'object') codes.push(...api.guardProblems.permission);
  codes.push(...(route.problems ?? []), 'internal_error');
  return [...new Set(codes)];
}

function catalogued(api: ApiDefinition, code: string): ProblemCodeInfo {
  const info = api.problems[code];
  if (!info) throw new Error(`problem code ${code} is missing from the API's catalogue`);
  return info;
}

function problemResponse(api: ApiDefinition, route: RouteSpec, status: number, codes: string[]): ZodOpenApiResponseObject {
  const takesKey = route.request?.headers?.shape['Idempotency-Key'] !== undefined;
  const headers =
    status === 503 && takesKey
      ? retryAfter.extend({ 'Idempotency-Key': z.string().optional().meta({ description: 'The key to retry this very attempt with (also for a send made without one).' }) })
      : [423, 429, 503].includes(status)
        ? retryAfter
        : undefined;
  return {
    description: codes.map((c) => `\`${c}\`: ${catalogued(api, c).description}`).join('\n\n'),
    ...(headers ? { headers } : {}),
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Problem' },
            { type: 'object', properties: { status: { const: status }, code: { type: 'string', enum: codes } } },
          ],
        },
        examples: Object.fromEntries(codes.map((c) => [c, { $ref: `#/components/examples/${c}` }])),
      },
    },
  };
}

function problemExample(api: ApiDefinition, code: string) {
  const { status, title, description } = catalogued(api, code);
  const errors = code === 'validation_failed' ? [{ path: 'email', message: 'Invalid email address' }] : undefined;
  return toProblem(new AppError({ status, code, title, detail: description, errors }));
}
