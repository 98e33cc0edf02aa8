/**
 * The cursor of `GET /notifications/sent`: where a page of one sender's sends ended, as the
 * keyset the list is ordered by, (created_at, notification_id), newest first. Opaque to clients
 * (base64url of JSON); one that does not decode to a time the database can hold and a UUID is a
 * 400. The time keeps the microseconds PostgreSQL stores: rounded to milliseconds, a page
 * boundary between sends stored within the same millisecond would skip or repeat some.
 *
 * A cursor names a place in time, not a user: one taken from another user's list (or made up)
 * pages the caller's own sends older than that place, and nothing else.
 */
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '@warren/shared/opaque-cursor';

export interface SentPosition {
  /** `created_at` in UTC to the microsecond: `2030-01-01T09:00:00.123456Z`. */
  at: string;
  /** The send's id (notification_id). */
  id: string;
}

/** A cursor this endpoint makes is about 110 characters. */
const CURSOR_MAX = 256;
const AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/;
const shape = z.tuple([z.string().regex(AT), z.uuid()]);

export function encodeSentCursor(p: SentPosition): string {
  return encodeCursor([p.at, p.id]);
}

export function decodeSentCursor(s: string): SentPosition | undefined {
  const tuple = decodeCursor(s, shape, CURSOR_MAX);
  if (!tuple || !isRealTime(tuple[0])) return undefined;
  return { at: tuple[0], id: tuple[1].toLowerCase() };
}

/**
 * A calendar time PostgreSQL takes as it is (no 24:00, no 30 February, no year 0), within
 * years 1970–9999: anything else is a made-up cursor, refused before the database sees it.
 */
function isRealTime(at: string): boolean {
  const m = AT.exec(at);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 1970) return false;
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
}
