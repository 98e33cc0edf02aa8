/**
 * Listing and finding users (GET /users?q=), for whoever holds users:read (admins, managers):
 * a recipient picker finds people by a piece of their name or email. Main-backend checks the
 * permission in the token; this checks it again against the caller's current role in the
 * database, so a token issued before a demotion cannot list. Admins (users:write) see every
 * account with its state (verified, created, locked); others see only verified users (the only
 * ones a notification reaches), without that state.
 */
import { decodeUserCursor, encodeUserCursor } from '@warren/shared/contracts/user-api';
import { AppError } from '@warren/shared/errors';
import type { Actor, AuthDeps } from './deps.js';
import { requireLiveSession } from './sessions.js';

export async function listUsers(deps: AuthDeps, req: Actor & { q?: string | undefined; limit: number; after?: string | undefined }) {
  const { user } = await requireLiveSession(deps, req);
  const permissions = new Set(await deps.users.permissionsOf(user.role));
  if (!permissions.has('users:read')) throw AppError.forbidden('missing_permission', 'This needs the permission users:read.');
  const admin = permissions.has('users:write');
  const after = req.after === undefined ? undefined : decodeUserCursor(req.after);
  if (req.after !== undefined && !after) throw AppError.validation([{ path: 'after', message: 'must be a nextCursor this endpoint answered' }]);
  const rows = await deps.users.search({ q: req.q?.trim() || undefined, limit: req.limit + 1, after, includeUnverified: admin });
  const page = rows.slice(0, req.limit);
  const last = page[page.length - 1];
  const now = new Date();
  return {
    items: page.map((u) => ({
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role,
      ...(admin ? { emailVerified: Boolean(u.emailVerifiedAt), createdAt: u.createdAt.toISOString(), locked: Boolean(u.lockedUntil && u.lockedUntil > now) } : {}),
    })),
    nextCursor: rows.length > req.limit && last ? encodeUserCursor({ name: last.sortName, id: last.id }) : null,
  };
}
