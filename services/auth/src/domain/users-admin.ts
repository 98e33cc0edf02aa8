/**
 * Administration of users: change a role (listing them: user-search.ts). Main-backend already
 * requires the users:write permission; this checks the caller's role again from the database,
 * so a token issued before a demotion cannot administer.
 *
 * A change that takes a permission away (a demotion) ends every session of the user in the
 * same transaction: access tokens carry the permissions they were issued with, and would
 * otherwise keep them until they expire (and the refresh token would mint new ones only at
 * the next refresh). The ended sessions are announced like a logout, so every service refuses
 * those tokens at once. A promotion keeps the sessions: the new permissions come with the next
 * refresh, and keeping old, smaller ones a while longer harms nobody.
 */
import type { Role } from '@warren/shared/contracts/notifications';
import { AppError } from '@warren/shared/errors';
import type { Actor, AuthDeps } from './deps.js';
import { requireLiveSession } from './sessions.js';

async function requireAdmin(deps: AuthDeps, actor: Actor) {
  const { user } = await requireLiveSession(deps, actor);
  if (user.role !== 'admin') throw AppError.forbidden('missing_permission', 'Only administrators can do this.');
}

export async function changeRole(deps: AuthDeps, actor: Actor & { targetUserId: string; role: Role }) {
  await requireAdmin(deps, actor);
  const granted = new Set(await deps.users.permissionsOf(actor.role));
  // A permission the previous role had and the new one lacks: the change is a demotion.
  const losesPermissions = async (previous: Role) => (await deps.users.permissionsOf(previous)).some((p) => !granted.has(p));
  const result = await deps.roleChanges.change(actor.targetUserId, actor.role, losesPermissions);
  if (result === 'not_found') throw AppError.notFound('user_not_found', 'No such user.');
  if (result === 'last_admin') throw new AppError({
    status: 409,
    code: 'last_admin',
    title: 'Conflict',
    detail: 'The last administrator cannot be demoted.',
  });
  await deps.audit.record('role_changed', {
    userId: actor.targetUserId,
    actorId: actor.userId,
    ip: actor.ip,
    userAgent: actor.userAgent,
    details: { from: result.previous, to: actor.role, sessionsEnded: result.sessionsEnded },
  });
  const user = await deps.users.findById(actor.targetUserId);
  if (!user) throw AppError.notFound('user_not_found', 'No such user.');
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
