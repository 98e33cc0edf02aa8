/** zod validation at the HTTP boundary: a bad body or query is a 400 naming every bad field. */
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
