/**
 * The RoleChanges port: a role change and the sessions it ends commit in one transaction, so a
 * demoted user's tokens never outlive the demotion. The transaction stays here: the domain only
 * answers, for the previous role, whether the change ends the sessions.
 */
import type { RoleChanges } from '../domain/ports.js';
import type { SessionsRepository } from './sessions-repository.js';
import type { UsersRepository } from './users-repository.js';

export function roleChanges(users: UsersRepository, sessions: SessionsRepository): RoleChanges {
  return {
    async change(userId, role, endSessionsIf) {
      let sessionsEnded = 0;
      const result = await users.changeRole(userId, role, async (tx, previous) => {
        if (await endSessionsIf(previous)) sessionsEnded = (await sessions.revokeAll(userId, tx)).length;
      });
      return typeof result === 'string' ? result : { previous: result.previous, sessionsEnded };
    },
  };
}
