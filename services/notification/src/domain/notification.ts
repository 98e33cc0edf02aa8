/** A notification as clients see it (REST and WebSocket alike): its schema is part of the contract (contracts/inbox.ts). */
import type { InboxNotification } from '@warren/shared/contracts/inbox';

export type Notification = InboxNotification;

/** A stored inbox row addressed to one user; `seq` orders a user's rows (the id is its hex form). */
export interface InboxEntry {
  userId: string;
  seq: number;
  notification: Notification;
  /** On the live path only: the W3C traceparent of the send that made it, for the socket's log line. */
  traceparent?: string | undefined;
}
