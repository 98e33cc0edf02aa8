/**
 * Building blocks of the message schemas for what Warren can store: text without U+0000
 * (PostgreSQL refuses it in text and jsonb), and free-form JSON objects nested at most 32 levels
 * with no U+0000 in any key or value. A message another team publishes straight to the broker
 * with either is refused by its schema (dead-lettered at once), not by the database after retries.
 */
import { z } from 'zod';
import { findJsonViolation, hasUnstorableText } from '../json-limits.js';

/** How deep `data` (and any free-form JSON object in a message) may nest. */
export const MAX_DATA_DEPTH = 32;

export const NUL_MESSAGE = 'must not contain U+0000 or an unpaired surrogate';

/** A string PostgreSQL can store (no U+0000, no unpaired surrogate); chain .trim(), .min(), .max() as on z.string(). */
export function text() {
  return z.string().refine((s) => !hasUnstorableText(s), NUL_MESSAGE);
}

/**
 * A JSON object nested at most `maxDepth` levels (the object itself is level 1), with no U+0000
 * in keys or string values, and, when `maxLength` is given, at most that many characters as JSON. The
 * issue's path names the offending place inside it. The size is measured only once the depth
 * is known to be bounded (JSON.stringify recurses).
 */
export function jsonObject(opts: { maxDepth?: number; maxLength?: number; lengthMessage?: string } = {}) {
  const maxDepth = opts.maxDepth ?? MAX_DATA_DEPTH;
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const violation = findJsonViolation(value, maxDepth);
    if (violation) {
      ctx.addIssue({
        code: 'custom',
        message: violation.kind === 'nul' ? NUL_MESSAGE : `must nest at most ${maxDepth} levels`,
        path: violation.path === '(root)' ? [] : violation.path.split('.'),
      });
      return;
    }
    if (opts.maxLength !== undefined && JSON.stringify(value).length > opts.maxLength) {
      ctx.addIssue({ code: 'custom', message: opts.lengthMessage ?? `must serialise to at most ${opts.maxLength} characters` });
    }
  });
}
