/**
 * Senders' names. A stored notification shows its sender as `{id, name}`: the id is the send's
 * `requestedBy.userId`, the name what the user directory holds for that user (auth announces it
 * with every `user.upserted`). Before a batch is stored, senders the directory has no name for
 * (a user announced before names were, or whose announcement is still on its way) are looked
 * up with auth once, and the answer recorded, so their notifications carry the name from the
 * first frame on. A name is cosmetic: if auth cannot answer, the notifications are stored at
 * once all the same, and show the name as soon as the directory learns it (names are read when
 * notifications are read, not copied into every row).
 *
 * A `sender` field in a message is not read: a name shown to recipients comes from auth, never
 * from what a publisher wrote, so no message can put a colleague's name on a notification.
 */
import type { Logger, LookupUsers, UserDirectory } from './ports.js';

export interface SenderNamesDeps {
  directory: Pick<UserDirectory, 'named' | 'upsert'>;
  lookupUsers: LookupUsers;
  logger: Logger;
}

/**
 * Makes sure the directory holds the names of these senders, as far as auth can tell now. Never
 * rejects (it runs beside the storing of the batch, which must not wait on or fail for it).
 */
export async function learnSenderNames(deps: SenderNamesDeps, senderIds: string[]): Promise<void> {
  if (senderIds.length === 0) return;
  try {
    const named = await deps.directory.named(senderIds);
    const missing = senderIds.filter((id) => !named.has(id));
    if (missing.length > 0) await deps.directory.upsert(await deps.lookupUsers(missing));
  } catch (err) {
    deps.logger.warn('sender names could not be looked up; shown once the directory learns them', { senders: senderIds.length, err: (err as Error).message });
  }
}
