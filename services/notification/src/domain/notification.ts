/** A notification as clients see it (REST and WebSocket alike). */
export interface Notification {
  id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

/** A stored inbox row addressed to one user; `seq` orders a user's rows (the id is its hex form). */
export interface InboxEntry {
  userId: string;
  seq: number;
  notification: Notification;
  /** On the live path only: the W3C traceparent of the send that made it, for the socket's log line. */
  traceparent?: string | undefined;
}
