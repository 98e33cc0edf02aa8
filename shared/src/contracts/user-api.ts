/**
 * `GET /users?q=&limit=&after=` (main-backend, permission users:read): the people a sender can
 * pick as recipients, found by name or email, a page at a time. The same schemas validate the
 * HTTP query and the RPC to auth, which owns the users and the order (by name, then id).
 */
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../opaque-cursor.js';
import { hasUnstorableText } from '../json-limits.js';
import { roleSchema } from './notifications.js';
import { text } from './text.js';

/** Characters of `q`: a name or an email fits; anything longer is a 400, never a long scan. */
export const USER_QUERY_MAX = 100;
/** Characters of a cursor: the longest this service makes is about 600. */
const CURSOR_MAX = 1024;

/**
 * The keyset of the last user of a page: the name as the database lowercases it, and the id.
 * Opaque to clients (base64url of JSON); one that does not decode to this is a 400.
 */
export interface UserCursor {
  name: string;
  id: string;
}

const cursorShape = z.tuple([z.string().max(400), z.uuid()]);

export function encodeUserCursor(c: UserCursor): string {
  return encodeCursor([c.name, c.id]);
}

export function decodeUserCursor(s: string): UserCursor | undefined {
  const tuple = decodeCursor(s, cursorShape, CURSOR_MAX);
  if (!tuple || hasUnstorableText(tuple[0])) return undefined;
  return { name: tuple[0], id: tuple[1] };
}

export const userCursorSchema = z.string().refine((s) => decodeUserCursor(s) !== undefined, 'must be a nextCursor this endpoint answered');

export const userSearchQuerySchema = z.object({
  /** Matches a substring of the name or the email, ignoring case; `%` and `_` are plain characters. Empty: everyone. */
  q: text().trim().max(USER_QUERY_MAX).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: userCursorSchema.optional(),
});

/**
 * One user. Admins (users:write) also see the account state; for others those fields are absent,
 * and only verified users are listed (the only ones a notification can reach).
 */
export const userListItemSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  emailVerified: z.boolean().optional(),
  createdAt: z.iso.datetime().optional(),
  locked: z.boolean().optional(),
});

export const userListPageSchema = z.object({ items: z.array(userListItemSchema), nextCursor: z.string().nullable() });
