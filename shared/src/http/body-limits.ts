/**
 * The HTTP edge's one check of what any request may carry, before a route sees it: no U+0000 in
 * any text of a JSON body (keys and string values) nor in the URL, and a body nested at most
 * MAX_BODY_DEPTH levels. PostgreSQL cannot store U+0000, and a deeply nested document is only
 * ever an attack; both are client errors (400), never a 500 from deeper down. Message schemas
 * (shared/src/contracts/text.ts) hold the same rules for what arrives over the broker.
 */
import { AppError } from '../errors.js';
import { findJsonViolation } from '../json-limits.js';

/**
 * Deep enough for every body Warren accepts: a batch item's `data` (itself at most 32 levels,
 * checked by its schema with a precise path) sits 3 levels down.
 */
export const MAX_BODY_DEPTH = 40;

/** `\u0000` or a surrogate escape `\uD800`–`\uDFFF` (paired ones are fine: the walk decides). */
const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/** A problem if the parsed body breaks a limit; `raw` is its JSON text. */
export function bodyLimitError(raw: string, body: unknown): AppError | undefined {
  // U+0000 and a lone surrogate can only be in JSON text as escapes (a raw control character is
  // invalid JSON, and invalid UTF-8 was already decoded to U+FFFD), and a document with fewer
  // brackets than the limit cannot be too deep: most bodies skip the walk.
  if (!UNSTORABLE_ESCAPE.test(raw) && !deeperThan(raw, MAX_BODY_DEPTH)) return undefined;
  const violation = findJsonViolation(body, MAX_BODY_DEPTH);
  if (!violation) return undefined;
  return violation.kind === 'nul'
    ? invalidText(violation.path)
    : AppError.badRequest('body_too_deep', `The request body may nest at most ${MAX_BODY_DEPTH} levels.`, [
        { path: violation.path, message: `nests deeper than ${MAX_BODY_DEPTH} levels` },
      ]);
}

/** A problem if the URL (path or query) holds an encoded U+0000. */
export function urlLimitError(url: string): AppError | undefined {
  return url.includes('%00') ? invalidText(url.indexOf('?') >= 0 && url.indexOf('%00') > url.indexOf('?') ? 'query' : 'path') : undefined;
}

function invalidText(path: string): AppError {
  return AppError.badRequest('invalid_text', 'Text may not contain U+0000 or an unpaired UTF-16 surrogate.', [
    { path, message: 'must not contain U+0000 or an unpaired surrogate' },
  ]);
}

/** True if `raw` holds more than `limit` opening brackets (a cheap bound on its depth). */
function deeperThan(raw: string, limit: number): boolean {
  let open = 0;
  for (let i = raw.indexOf('{'); i >= 0 && open <= limit; i = raw.indexOf('{', i + 1)) open++;
  for (let i = raw.indexOf('['); i >= 0 && open <= limit; i = raw.indexOf('[', i + 1)) open++;
  return open > limit;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** A size as HTTP_BODY_LIMIT writes it ('100kb', '1mb', '512b') in bytes, as the body parser reads it. */
export function bodyLimitBytes(size: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(size);
  if (!match) throw new Error(`not a body size: ${size}`);
  return Number(match[1]) * (SIZE_UNITS[(match[2] as string).toLowerCase()] as number);
}
