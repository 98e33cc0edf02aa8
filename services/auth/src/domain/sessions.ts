/** A user's own sessions: who am I, list, end one, end this one, end all. */
import type { SessionInfo } from '@warren/shared/contracts/auth-rpc';
import { AppError } from '@warren/shared/errors';
import type { Actor, AuthDeps } from './deps.js';

/** The caller's session must still be live: an ended session's access token gets nothing here. */
export async function requireLiveSession(deps: AuthDeps, actor: Actor) {
  const session = await deps.sessions.findLive(actor.sessionId);
  if (!session || session.userId !== actor.userId) throw AppError.unauthorized('session_ended', 'This session has ended; log in again.');
  const user = await deps.users.findById(actor.userId);
  if (!user) throw AppError.unauthorized('session_ended', 'This session has ended; log in again.');
  return { session, user };
}

export async function me(deps: AuthDeps, actor: Actor) {
  const { user } = await requireLiveSession(deps, actor);
  return {
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
    permissions: await deps.users.permissionsOf(user.role),
  };
}

export async function listSessions(deps: AuthDeps, actor: Actor): Promise<{ sessions: SessionInfo[] }> {
  await requireLiveSession(deps, actor);
  const sessions = await deps.sessions.listLive(actor.userId);
  return {
    sessions: sessions.map((s) => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      lastUsedAt: s.lastUsedAt.toISOString(),
      userAgent: s.userAgent,
      ip: s.ip,
      current: s.id === actor.sessionId,
    })),
  };
}

export async function revokeSession(deps: AuthDeps, actor: Actor & { targetSessionId: string }): Promise<Record<string, never>> {
  await requireLiveSession(deps, actor);
  // Another user's session id answers exactly like an unknown one.
  if (!(await deps.sessions.revoke(actor.userId, actor.targetSessionId))) {
    throw AppError.notFound('session_not_found', 'No such session.');
  }
  await deps.audit.record('session_revoked', { userId: actor.userId, ip: actor.ip, userAgent: actor.userAgent, details: { sessionId: actor.targetSessionId } });
  return {};
}

export async function logout(deps: AuthDeps, actor: Actor): Promise<Record<string, never>> {
  // Logging out an already-ended session is not an error: the outcome the caller wants holds.
  if (await deps.sessions.revoke(actor.userId, actor.sessionId)) {
    await deps.audit.record('logout', { userId: actor.userId, ip: actor.ip, userAgent: actor.userAgent, details: { sessionId: actor.sessionId } });
  }
  return {};
}

export async function logoutAll(deps: AuthDeps, actor: Actor): Promise<Record<string, never>> {
  await requireLiveSession(deps, actor);
  const ended = await deps.sessions.revokeAll(actor.userId);
  await deps.audit.record('logout_all', { userId: actor.userId, ip: actor.ip, userAgent: actor.userAgent, details: { sessions: ended.length } });
  return {};
}

export async function isSessionActive(deps: AuthDeps, sessionId: string): Promise<{ active: boolean }> {
  return { active: Boolean(await deps.sessions.findLive(sessionId)) };
}
