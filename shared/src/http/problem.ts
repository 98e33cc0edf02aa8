/**
 * Maps any error to RFC 9457 problem details. Only AppErrors, the HTTP framework's own
 * client errors (bad JSON, too large, not JSON) and an unreachable database (503 with
 * Retry-After) say anything specific; everything else is a generic 500 whose cause is logged,
 * never sent (no stack, SQL or host name reaches a client).
 */
import { z } from 'zod';
import { databaseUnavailable, isDatabaseUnavailable } from '../db/unavailable.js';
import { AppError } from '../errors.js';

/** The body of every 4xx/5xx answer; the API documents describe it with this schema. */
export const problemDetailsSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  code: z.string().meta({ description: 'Stable machine-readable code: branch on this, not on the text.' }),
  instance: z.string().optional().meta({ description: 'The request path.' }),
  errors: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional()
    .meta({ description: 'Validation errors: every bad field, query parameter or header with its path.' }),
});
export type ProblemDetails = z.infer<typeof problemDetailsSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://warren.dev/problems/';

/** body-parser's (express.json's) client errors carry a status and a stable `type` such as entity.too.large. */
interface HttpLibError {
  statusCode?: number;
  type?: string;
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // Express's router could not decode a path parameter (`/inbox/%zz/read`): no such route.
  if (err instanceof URIError) return AppError.notFound('route_not_found', 'No such route.');
  const e = err as HttpLibError;
  const status = e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    switch (e.type) {
      case 'entity.parse.failed':
        return AppError.badRequest('malformed_json', 'The request body is not valid JSON.');
      case 'entity.too.large':
        return new AppError({
          status: 413,
          code: 'payload_too_large',
          title: 'Payload Too Large',
          detail: 'The request body is too large.',
        });
      case 'charset.unsupported':
      case 'encoding.unsupported':
        return new AppError({
          status: 415,
          code: 'unsupported_media_type',
          title: 'Unsupported Media Type',
          detail: 'Send the body as application/json.',
        });
      default:
        return new AppError({ status, code: 'bad_request', title: 'Bad Request', detail: 'The request could not be processed.' });
    }
  }
  if (isDatabaseUnavailable(err)) return databaseUnavailable();
  return new AppError({ status: 500, code: 'internal_error', title: 'Internal Server Error', detail: 'Something went wrong on our side.' });
}

export function toProblem(err: AppError, instance?: string): ProblemDetails {
  return {
    type: TYPE_BASE + err.code,
    title: err.title,
    status: err.status,
    detail: err.detail ?? err.title,
    code: err.code,
    ...(instance ? { instance } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
  };
}
