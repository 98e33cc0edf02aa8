/** zod validation at the HTTP boundary: a bad body or query is a 400 naming every bad field. */
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { AppError, type FieldError } from '../errors.js';

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw AppError.validation(fieldErrors(result.error), `The ${what} is not valid.`);
  return result.data;
}

/** Replaces req.body with the parsed (and defaulted, trimmed) value. */
export function validateBody<S extends z.ZodType>(schema: S) {
  return (req: Request, _res: Response, next: NextFunction) => {
    req.body = parseOrThrow(schema, req.body ?? {});
    next();
  };
}

/** Parsed query lands in res.locals.query (express 5 makes req.query read-only). */
export function validateQuery<S extends z.ZodType>(schema: S) {
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.query = parseOrThrow(schema, req.query, 'query string');
    next();
  };
}
