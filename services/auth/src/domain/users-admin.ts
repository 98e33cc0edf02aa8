/**
 * Administration of users: list (keyset-paginated) and change a role. Main-backend already
 * requires the users:write permission; this checks the caller's role again from the database,
 * so a token issued before a demotion cannot administer.
 */
import type { Role } from '@warren/shared/contracts/notifications';
import { AppError } from '@warren/shared/errors';
import type { Actor, AuthDeps } from './deps.js';
import { requireLiveSession } from './sessions.js';

async function requireAdmin(deps: AuthDeps, actor: Actor) {
  const { user } = await requireLiveSession(deps, actor);
  if (user.role !== 'admin') throw AppError.forbidden('missing_permission', 'Only administrators can do this.');
}

export async function listUsers(deps: AuthDeps, actor: Actor & { limit: number; after?: string | undefined }) {
  await requireAdmin(deps, actor);
  const rows = await deps.users.list(actor.limit + 1, actor.after);
  const page = rows.slice(0, actor.limit);
  return {
    items: page.map((u) => ({
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role,
      emailVerified: Boolean(u.emailVerifiedAt),
      createdAt: u.createdAt.toISOString(),
      locked: Boolean(u.lockedUntil && u.lockedUntil > new Date()),
    })),
    nextCursor: rows.length > actor.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

export async function changeRole(deps: AuthDeps, actor: Actor & { targetUserId: string; role: Role }) {
  await requireAdmin(deps, actor);
  const result = await deps.users.changeRole(actor.targetUserId, actor.role);
  if (result === 'not_found') throw AppError.notFound('user_not_found', 'No such user.');
  if (result === 'last_admin') throw new AppError(409, 'last_admin', 'Conflict', 'The last administrator cannot be demoted.');
  await deps.audit.record('role_changed', {
    userId: actor.targetUserId,
    actorId: actor.userId,
    ip: actor.ip,
    userAgent: actor.userAgent,
    details: { from: result.previous, to: actor.role },
  });
  const user = await deps.users.findById(actor.targetUserId);
  if (!user) throw AppError.notFound('user_not_found', 'No such user.');
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
