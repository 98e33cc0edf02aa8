/**
 * Storing a requested notification: one inbox row per recipient, committed before the message
 * is acked; then the newly stored rows are pushed to the recipients' open sockets. The socket is
 * only the fast path: a client that misses the push finds the row in its inbox.
 */
import type { NotificationRequested } from '@warren/shared/contracts/notifications';
import type { Logger } from '@warren/shared/logger';
import type { InboxRepository } from '../db/inbox-repository.js';
import type { InboxEntry } from './notification.js';

export interface StoreNotificationDeps {
  inbox: InboxRepository;
  deliver: (entries: InboxEntry[]) => void;
  logger: Logger;
}

export async function storeNotification(deps: StoreNotificationDeps, msg: NotificationRequested): Promise<void> {
  const userIds = [...new Set(msg.recipients.userIds ?? [])];
  if (msg.recipients.roles?.length) {
    // Role fan-out needs the user directory the auth service will publish (a later issue).
    deps.logger.warn('role recipients are not resolved yet; only user ids are delivered', {
      notificationId: msg.notificationId,
      roles: msg.recipients.roles,
    });
  }
  if (userIds.length === 0) return;
  const stored = await deps.inbox.insert({
    notificationId: msg.notificationId,
    userIds,
    type: msg.type,
    title: msg.title,
    body: msg.body,
    data: msg.data,
  });
  deps.logger.info('notification stored', {
    notificationId: msg.notificationId,
    recipients: userIds.length,
    newRows: stored.length,
  });
  deps.deliver(stored);
}
