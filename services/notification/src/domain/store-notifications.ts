/**
 * Storing requested notifications, a batch at a time: recipients resolved once, here and now
 * (user ids as given, plus the users who hold a named role in the directory at this moment),
 * one row per recipient, all rows of the batch in one multi-row insert committed before the
 * messages are acked. Only newly stored rows are handed to `deliver` (the live fast path), so
 * a redelivered message changes nothing and is pushed nowhere.
 */
import type { NotificationRequested, Role } from '@warren/shared/contracts/notifications';
import type { Logger } from '@warren/shared/logger';
import type { BatchItem } from '@warren/shared/messaging/consumer';
import type { DirectoryRepository } from '../db/directory-repository.js';
import type { InboxRepository, NewInboxRow } from '../db/inbox-repository.js';
import type { InboxEntry } from './notification.js';


export interface StoreNotificationsDeps {
  inbox: InboxRepository;
  directory: DirectoryRepository;
  deliver: (batch: number, entries: InboxEntry[]) => Promise<void>;
  logger: Logger;
}

export async function storeNotifications(deps: StoreNotificationsDeps, batch: BatchItem<NotificationRequested>[]): Promise<void> {
  const roles = [...new Set(batch.flatMap((b) => b.payload.recipients.roles ?? []))] as Role[];
  const holders = await deps.directory.usersWithRoles(roles);

  const rows: NewInboxRow[] = [];
  for (const { payload: n, meta } of batch) {
    const wanted = new Set(n.recipients.roles ?? []);
    const recipients = new Set([...(n.recipients.userIds ?? []), ...holders.filter((h) => wanted.has(h.role)).map((h) => h.userId)]);
    for (const userId of recipients) {
      rows.push({ notificationId: n.notificationId, userId, type: n.type, title: n.title, body: n.body, data: n.data });
    }
    deps.logger.info('notification received', { requestId: meta.requestId, notificationId: n.notificationId, recipients: recipients.size });
  }

  const { batch: batchNo, entries: stored } = await deps.inbox.insert(rows);
  deps.logger.info('notifications stored', { messages: batch.length, rows: rows.length, newRows: stored.length });
  for (const { meta, payload } of batch) {
    deps.logger.debug('notification stored', { requestId: meta.requestId, notificationId: payload.notificationId });
  }
  if (batchNo === undefined) return;
  try {
    await deps.deliver(batchNo, stored);
  } catch (err) {
    // Stored is what counts: clients catch up from the database. Never fail the batch here.
    deps.logger.warn('live delivery failed; clients will catch up', { err: (err as Error).message, rows: stored.length });
  }
}
