/**
 * Which user ids exist: the notification service asks for the ids its directory has not heard
 * of yet (user.upserted travels through the outbox, a moment behind the commit), before it
 * counts them as matching no user. Answers role, version and name, as the announcement would.
 */
import type { AuthDeps } from './deps.js';

export async function lookupUsers(deps: Pick<AuthDeps, 'users'>, req: { userIds: string[] }) {
  return { users: await deps.users.lookup(req.userIds) };
}
