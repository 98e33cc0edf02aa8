/**
 * Asks auth (over RPC) which of some user ids exist, for ids the directory has not heard of yet.
 * The notification consumer's batch waits on the answer, so two guards keep an auth outage from
 * slowing everyone: a short deadline per call, and after a failed call, further calls fail at
 * once for a few seconds (one probe then goes through) instead of each waiting out the deadline.
 * A failed lookup only makes the messages naming those ids wait for a retry.
 */
import { authRpc, USER_LOOKUP_MAX } from '@warren/shared/contracts/auth-rpc';
import type { UserUpserted } from '@warren/shared/contracts/users';
import { UnavailableError } from '@warren/shared/messaging/failure-kind';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';

/** How long a batch waits for auth's answer. */
const LOOKUP_TIMEOUT_MS = 1_500;
/** After a failure, how long calls fail at once before one is tried again. */
const PAUSE_AFTER_FAILURE_MS = 3_000;

export type FoundUser = Pick<UserUpserted, 'userId' | 'role' | 'version' | 'name'>;

export function createUserLookup(rpc: RpcClient, now: () => number = Date.now): (userIds: string[]) => Promise<FoundUser[]> {
  let pausedUntil = 0;
  return async (userIds) => {
    if (now() < pausedUntil) throw new UnavailableError('auth did not answer a moment ago; user lookups are paused');
    const found: FoundUser[] = [];
    try {
      for (let i = 0; i < userIds.length; i += USER_LOOKUP_MAX) {
        found.push(...(await rpc.call(authRpc.lookupUsers, { userIds: userIds.slice(i, i + USER_LOOKUP_MAX) }, LOOKUP_TIMEOUT_MS)).users);
      }
    } catch (err) {
      pausedUntil = now() + PAUSE_AFTER_FAILURE_MS;
      throw err;
    }
    return found;
  };
}
