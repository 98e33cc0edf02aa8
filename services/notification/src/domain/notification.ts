/** A notification as clients see it (REST and WebSocket alike): its schema is part of the HTTP contract. */
import type { Notification } from '@warren/shared/contracts/notification-api';

export type { Notification };

/** A stored inbox row addressed to one user; `seq` orders a user's rows (the id is its hex form). */
export interface InboxEntry {
  userId: string;
  seq: number;
  notification: Notification;
}
