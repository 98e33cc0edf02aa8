/**
 * Opaque page cursors: the keyset a page ended at, as base64url of a JSON tuple. Clients pass
 * them back untouched; one that is too long, not base64url, or does not decode to the shape the
 * endpoint makes is refused (undefined: the caller answers 400) before the database sees it.
 */
import type { z } from 'zod';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** The tuple `s` encodes, when it has `shape` and at most `maxLength` characters. */
export function decodeCursor<S extends z.ZodType>(s: string, shape: S, maxLength: number): z.infer<S> | undefined {
  if (s.length > maxLength || !BASE64URL.test(s)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = shape.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
